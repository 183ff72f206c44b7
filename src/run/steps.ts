import { isPromise } from "../internal/promise.js";
import { END, element, type AsyncPull, type Pulled, type RunContext, type Step, type SyncPull } from "../plan.js";

/** Marks an element that a filter dropped. */
const SKIPPED = Symbol("SKIPPED");
type Applied = IteratorResult<unknown> | typeof SKIPPED;

/**
 * A run of sequential map/do/filter steps executed as one loop: the hot path.
 * An error thrown by a step drops that element and leaves the loop usable.
 */
export class StepsSync implements SyncPull {
  readonly #upstream: SyncPull;
  readonly #steps: readonly Step[];
  readonly #options: RunContext["callOptions"];
  #done = false;

  constructor(upstream: SyncPull, steps: readonly Step[], context: RunContext) {
    this.#upstream = upstream;
    this.#steps = steps;
    this.#options = context.callOptions;
  }

  next(): IteratorResult<unknown> {
    if (this.#done) return END;
    const steps = this.#steps;
    const options = this.#options;
    next: for (;;) {
      const pulled = this.#upstream.next();
      if (pulled.done) {
        this.#done = true;
        return END;
      }
      let value = pulled.value;
      for (let k = 0; k < steps.length; k++) {
        const step = steps[k]!;
        const out = step.fn(value, options);
        if (isPromise(out)) throw promiseInSyncIteration(step, out);
        if (step.kind === "map") value = out;
        else if (step.kind === "filter" && !out) continue next;
      }
      return element(value);
    }
  }

  return(): void {
    if (this.#done) return;
    this.#done = true;
    this.#upstream.return();
  }
}

/**
 * The same run of steps under async iteration. It answers synchronously while
 * upstream and the callbacks do, and awaits only values that are promises.
 */
export class StepsAsync implements AsyncPull {
  readonly #upstream: AsyncPull;
  readonly #steps: readonly Step[];
  readonly #options: RunContext["callOptions"];
  #done = false;

  constructor(upstream: AsyncPull, steps: readonly Step[], context: RunContext) {
    this.#upstream = upstream;
    this.#steps = steps;
    this.#options = context.callOptions;
  }

  next(): Pulled {
    if (this.#done) return END;
    for (;;) {
      const pulled = this.#upstream.next();
      if (isPromise(pulled)) return this.#slowly(pulled.then((p) => this.#handle(p)));
      const out = this.#handle(pulled);
      if (out === SKIPPED) continue;
      return isPromise(out) ? this.#slowly(out) : out;
    }
  }

  /** Once something is pending, goes on as a plain async loop, so no promise chain grows while filtering. */
  async #slowly(pending: Promise<Applied>): Promise<IteratorResult<unknown>> {
    let out = await pending;
    while (out === SKIPPED) {
      if (this.#done) return END;
      out = await this.#handle(await this.#upstream.next());
    }
    return out;
  }

  #handle(pulled: IteratorResult<unknown>): Applied | Promise<Applied> {
    if (!pulled.done) return this.#apply(pulled.value, 0);
    this.#done = true;
    return END;
  }

  /** Runs steps `from`.. on `value`; on the first promise, goes on once it settles. */
  #apply(value: unknown, from: number): Applied | Promise<Applied> {
    const steps = this.#steps;
    for (let k = from; k < steps.length; k++) {
      const step = steps[k]!;
      const out = step.fn(value, this.#options);
      if (isPromise(out)) {
        return Promise.resolve(out).then((settled) => {
          if (step.kind === "filter" && !settled) return SKIPPED;
          return this.#apply(step.kind === "map" ? settled : value, k + 1);
        });
      }
      if (step.kind === "map") value = out;
      else if (step.kind === "filter" && !out) return SKIPPED;
    }
    return element(value);
  }

  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    return this.#upstream.return();
  }
}

/** The error for a callback that returned a promise while iterating synchronously. */
export function promiseInSyncIteration(step: { label: string }, promise: PromiseLike<unknown>): TypeError {
  // The promise is abandoned: keep its rejection from surfacing as unhandled.
  Promise.resolve(promise).catch(() => {});
  return new TypeError(
    `\`${step.label}\` returned a Promise during sync iteration; iterate with \`for await\` or a terminal such as \`toArray()\``,
  );
}
