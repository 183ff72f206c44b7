import { isPromise } from "../internal/promise.js";
import { ArraySource } from "./sources.js";
import { END, element, PAUSED, promiseInSyncIteration, Resume, Stage, withoutResume, type CallOptions, type Drained, type Pulled, type RunContext, type Sink, type Step } from "./stage.js";

/** What a fused run of steps returns for an element that a filter dropped. */
const SKIPPED = Symbol("SKIPPED");

/**
 * The sync stages' iterator result for `out`, the end when it is SKIPPED. One
 * allocation site for both: when the consumer's loop inlines `next()`, V8 then
 * removes the object altogether (W1 60 -> 90 M/s), which it cannot do when an
 * element's result and END meet in a branch.
 */
function result(out: unknown): IteratorResult<unknown> {
  const done = out === SKIPPED;
  return { done, value: done ? undefined : out } as IteratorResult<unknown>;
}

/**
 * A fused run of steps: the element's output, SKIPPED, or (in async iteration)
 * a promise of either. The call options come as an argument, not in a closure,
 * so one composed function serves every iteration of the same run of steps.
 */
type Apply = (value: unknown, options: CallOptions) => unknown;

const identity: Apply = (value) => value;

/** Composed runs of steps, found again by their functions, kinds and labels. */
interface Composed {
  readonly next: WeakMap<Function, Map<string, Composed>>;
  apply?: Apply;
}

/**
 * The composed function for `steps`, made once per distinct run of steps: a
 * pipeline built again (a job per batch, a benchmark) reuses code that the
 * engine has already optimised, instead of fresh closures that it must relearn.
 */
function composeOnce(cache: Composed, steps: readonly Step[], compose: (steps: readonly Step[]) => Apply): Apply {
  let node = cache;
  for (const step of steps) {
    let byKind = node.next.get(step.fn);
    if (byKind === undefined) node.next.set(step.fn, (byKind = new Map()));
    const key = `${step.kind} ${step.label}`;
    let child = byKind.get(key);
    if (child === undefined) byKind.set(key, (child = { next: new WeakMap() }));
    node = child;
  }
  return (node.apply ??= compose(steps));
}

const composedSync: Composed = { next: new WeakMap() };
const composedAsync: Composed = { next: new WeakMap() };

/**
 * Composes the steps into one function, innermost last, so each element goes
 * through plain nested calls: the hot path. For sync iteration a callback that
 * returns a promise is a TypeError naming its operation.
 */
function composeSync(steps: readonly Step[]): Apply {
  let apply = identity;
  for (let k = steps.length - 1; k >= 0; k--) {
    const then = apply;
    const step = steps[k]!;
    const fn = step.fn;
    if (step.kind === "map") {
      apply = (x, options) => {
        const out = fn(x, options);
        if (isPromise(out)) throw promiseInSyncIteration(step.label, out);
        return then(out, options);
      };
    } else if (step.kind === "filter") {
      apply = (x, options) => {
        const keep = fn(x); // `where` sees only the element
        if (isPromise(keep)) throw promiseInSyncIteration(step.label, keep);
        return keep ? then(x, options) : SKIPPED;
      };
    } else {
      apply = (x, options) => {
        const out = fn(x, options);
        if (isPromise(out)) throw promiseInSyncIteration(step.label, out);
        return then(x, options);
      };
    }
  }
  return apply;
}

/**
 * The same for async iteration: a promise from a callback is awaited and the
 * element goes on from there, unless the iteration was closed meanwhile (its
 * signal aborted): then no later step is called and the element is dropped.
 */
function composeAsync(steps: readonly Step[]): Apply {
  let apply = identity;
  for (let k = steps.length - 1; k >= 0; k--) {
    const then = apply;
    const { fn, kind } = steps[k]!;
    const goOn = (x: unknown, options: CallOptions) => (options.signal.aborted ? SKIPPED : then(x, options));
    apply =
      kind === "map"
        ? (x, options) => {
            const out = fn(x, options);
            return isPromise(out) ? Promise.resolve(out).then((v) => goOn(v, options)) : then(out, options);
          }
        : kind === "filter"
          ? (x, options) => {
              const keep = fn(x); // `where` sees only the element
              if (isPromise(keep)) return Promise.resolve(keep).then((k) => (k ? goOn(x, options) : SKIPPED));
              return keep ? then(x, options) : SKIPPED;
            }
          : (x, options) => {
              const out = fn(x, options);
              return isPromise(out) ? Promise.resolve(out).then(() => goOn(x, options)) : then(x, options);
            };
  }
  return apply;
}

/**
 * What every fused run of steps holds: the steps composed for the run's mode
 * (see composeSync, composeAsync) and the call options they are called with.
 */
abstract class FusedSteps extends Stage {
  protected readonly apply: Apply;
  protected readonly options: CallOptions;
  constructor(steps: readonly Step[], context: RunContext) {
    super();
    this.apply = context.mode === "sync" ? composeOnce(composedSync, steps, composeSync) : composeOnce(composedAsync, steps, composeAsync);
    this.options = context.callOptions;
  }
}

/**
 * A run of sequential map/do/filter steps executed as one loop. An error thrown
 * by a step drops that element and leaves the loop usable.
 */
export class StepsSync extends FusedSteps {
  readonly #upstream: Stage;
  #done = false;

  constructor(upstream: Stage, steps: readonly Step[], context: RunContext) {
    super(steps, context);
    this.#upstream = upstream;
  }

  next(): IteratorResult<unknown> {
    const apply = this.apply;
    let out: unknown = SKIPPED;
    while (!this.#done) {
      const pulled = this.#upstream.next() as IteratorResult<unknown>; // sync iteration: upstream answers at once
      if (pulled.done) {
        this.#done = true;
        break;
      }
      out = apply(pulled.value, this.options);
      if (out !== SKIPPED) break;
    }
    return result(out);
  }

  return(): void {
    if (this.#done) return;
    this.#done = true;
    this.#upstream.return();
  }
}

/** Steps right after an array source read the array by index: no iterator result per source element. */
export class ArrayStepsSync extends FusedSteps {
  readonly #array: ArrayLike<unknown>;
  #index = 0;
  #closed = false; // a flag, not a swapped array or an Infinity index: the hot loop's fields keep one shape

  constructor(array: ArrayLike<unknown>, steps: readonly Step[], context: RunContext) {
    super(steps, context);
    this.#array = array;
  }

  next(): IteratorResult<unknown> {
    const array = this.#array;
    const apply = this.apply;
    let out: unknown = SKIPPED;
    while (!this.#closed && this.#index < array.length) {
      out = apply(array[this.#index++], this.options);
      if (out !== SKIPPED) break;
    }
    if (out === SKIPPED) this.#closed = true;
    return result(out);
  }

  return(): void {
    this.#closed = true;
  }
}

/**
 * The same run of steps under async iteration. It answers synchronously while
 * upstream and the callbacks do, and awaits only values that are promises.
 */
export class StepsAsync extends FusedSteps {
  readonly #upstream: Stage;
  #done = false;

  constructor(upstream: Stage, steps: readonly Step[], context: RunContext) {
    super(steps, context);
    this.#upstream = upstream;
  }

  /** The first element: the push mode's answer without a sink, a Resume turned into the promise it resumes to. */
  next(): Pulled {
    return withoutResume(this.drain());
  }

  /**
   * Push mode (see {@link Stage.drain}); without a `sink`, the first element
   * is the answer. A pending pull comes back as a {@link Resume}: the runner
   * awaits upstream's own promise, and no promise of ours is made per pull.
   */
  override drain(sink?: Sink): Drained {
    if (this.#done) return END;
    const apply = this.apply;
    for (;;) {
      const pulled = this.#upstream.next();
      // `instanceof` first: the usual promise is known without looking up `then`.
      if (pulled instanceof Promise || isPromise(pulled)) return new Resume(pulled as Promise<IteratorResult<unknown>>, this.#resume);
      if (pulled.done) return this.#end();
      const out = apply(pulled.value, this.options);
      if (out === SKIPPED) continue;
      if (isPromise(out)) return this.#slowly(out);
      if (sink === undefined) return element(out);
      if (sink(out) === true) return PAUSED;
    }
  }

  readonly #resume = (pulled: IteratorResult<unknown>): Drained => {
    if (pulled.done || this.#done) return this.#end();
    const out = this.apply(pulled.value, this.options);
    if (out === SKIPPED) return this.drain(); // a fresh Resume for the runner's loop: nothing nests
    return isPromise(out) ? this.#slowly(out) : element(out);
  };

  /**
   * Once something is pending, goes on as a plain async loop until an element
   * comes out, so no promise chain grows while a filter drops elements.
   */
  async #slowly(pending: unknown): Promise<IteratorResult<unknown>> {
    let out = pending === SKIPPED ? pending : await pending;
    while (out === SKIPPED) {
      const pulled = await this.#upstream.next();
      if (pulled.done || this.#done) return this.#end();
      out = this.apply(pulled.value, this.options);
      if (isPromise(out)) out = await out;
    }
    return element(out);
  }

  #end(): IteratorResult<unknown> {
    this.#done = true;
    return END;
  }

  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    return this.#upstream.return();
  }
}

/**
 * Steps right after an array source, under async iteration: the array is read by
 * index and each element answered at once unless a callback returns a promise.
 */
export class ArrayStepsAsync extends FusedSteps {
  readonly #array: ArrayLike<unknown>;
  #index = 0;
  #closed = false;

  constructor(array: ArrayLike<unknown>, steps: readonly Step[], context: RunContext) {
    super(steps, context);
    this.#array = array;
  }

  next(): Pulled {
    return this.drain();
  }

  /** Push mode (see {@link Stage.drain}); without a `sink`, the first element is the answer. */
  override drain(sink?: Sink): Pulled {
    const array = this.#array;
    const apply = this.apply;
    while (!this.#closed && this.#index < array.length) {
      const out = apply(array[this.#index++], this.options);
      if (out === SKIPPED) continue;
      if (isPromise(out)) return this.#slowly(out);
      // A literal apart from END, unlike the sync stages: async results escape into promises, where V8 cannot remove them.
      if (sink === undefined) return { done: false, value: out };
      if (sink(out) === true) return PAUSED;
    }
    this.#closed = true;
    return END;
  }

  /** A callback returned a promise: go on in a plain loop until an element comes out. */
  async #slowly(pending: PromiseLike<unknown>): Promise<IteratorResult<unknown>> {
    let out = await pending;
    while (out === SKIPPED) {
      if (this.#closed || this.#index >= this.#array.length) {
        this.#closed = true;
        return END;
      }
      out = this.apply(this.#array[this.#index++], this.options);
      if (isPromise(out)) out = await out;
    }
    return element(out);
  }

  return(): void {
    this.#closed = true;
  }
}

/**
 * The stage of a run of fused steps, for the run's mode: steps right after an
 * array source read the array by index. The one operation kept in a version
 * per mode: its loops are the hot paths (W1, W2, W3), and sync iteration must
 * turn a callback's promise into a TypeError where async iteration awaits it.
 */
export function stepsStage(upstream: Stage, steps: readonly Step[], context: RunContext): Stage {
  if (context.mode === "sync") {
    return upstream instanceof ArraySource ? new ArrayStepsSync(upstream.array, steps, context) : new StepsSync(upstream, steps, context);
  }
  return upstream instanceof ArraySource ? new ArrayStepsAsync(upstream.array, steps, context) : new StepsAsync(upstream, steps, context);
}
