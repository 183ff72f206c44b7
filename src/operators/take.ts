import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf, show } from "../internal/show.js";
import { integer } from "../internal/validate.js";
import { END, PAUSED, withoutResume, type AsyncPull, type Operator, type Pulled, type Resume, type Sink, type SyncPull } from "../plan.js";
import { promiseInSyncIteration } from "../run/steps.js";

export interface TakeNode {
  readonly op: "take";
  /** How many elements to yield, or the predicate of the element that ends the stream. */
  readonly until: number | ((value: unknown) => unknown);
}

export function takeNode(until: unknown): TakeNode {
  return Object.freeze({ op: "take", until: untilArgument("take", until) });
}

/** `until` of `take` and `skip`: a count (an integer >= 0) or a predicate. */
export function untilArgument(operation: string, until: unknown): TakeNode["until"] {
  if (typeof until === "function") return until as TakeNode["until"];
  if (typeof until === "number") return integer("until", until, 0, true);
  throw new TypeError(`\`${operation}\` expects a count or a predicate as \`until\`, got ${show(until)}`);
}

/** What a stage does with an element: yield it, or end before it. Shared by both runners. */
function reached(node: TakeNode, taken: number, matched: unknown): boolean {
  return typeof node.until === "number" ? taken >= node.until : Boolean(matched);
}

/**
 * The first `until` elements, or the elements before the first one matching
 * `until`, which is consumed but not yielded. Errors pass through and do not
 * count. Once done it closes upstream without pulling it again.
 */
class TakeSync implements SyncPull {
  readonly #upstream: SyncPull;
  readonly #node: TakeNode;
  #taken = 0;
  #done = false;
  constructor(upstream: SyncPull, node: TakeNode) {
    this.#upstream = upstream;
    this.#node = node;
  }
  next(): IteratorResult<unknown> {
    if (this.#done) return END;
    const until = this.#node.until;
    if (typeof until === "number" && reached(this.#node, this.#taken, undefined)) return this.#end();
    const pulled = this.#upstream.next();
    if (pulled.done) return this.#end();
    if (typeof until === "function") {
      const matched = until(pulled.value);
      if (isPromise(matched)) throw promiseInSyncIteration({ label: take.explain(this.#node) }, matched);
      if (reached(this.#node, this.#taken, matched)) return this.#end();
    }
    this.#taken++;
    return pulled;
  }
  #end(): IteratorResult<unknown> {
    this.return();
    return END;
  }
  return(): void {
    if (this.#done) return;
    this.#done = true;
    this.#upstream.return();
  }
}

class TakeAsync implements AsyncPull {
  readonly #upstream: AsyncPull;
  readonly #node: TakeNode;
  #taken = 0;
  #done = false;
  constructor(upstream: AsyncPull, node: TakeNode) {
    this.#upstream = upstream;
    this.#node = node;
  }
  /** A count answers at once while upstream does; a predicate (maybe async) takes the general path. */
  next(): Pulled {
    if (this.#done) return END;
    const until = this.#node.until;
    if (typeof until !== "number") return this.#untilMatch();
    if (reached(this.#node, this.#taken, undefined)) return this.#end();
    const pulled = this.#upstream.next();
    if (isPromise(pulled)) return pulled.then(this.#counted);
    return this.#counted(pulled);
  }

  /**
   * Push mode (see `AsyncPull.drain`) for a count: upstream hands the elements
   * that are ready to `sink` through a counter, which stops its loop right
   * after the last one, before anything more is pulled. When downstream asks
   * to pause at that same element, its pause goes first; the next call ends.
   */
  drain(sink: Sink): Pulled | Resume {
    const until = this.#node.until;
    const upstream = this.#upstream;
    if (this.#done || typeof until !== "number" || this.#taken >= until || upstream.drain === undefined) return this.next();
    let reached = false;
    let answer = upstream.drain((value) => {
      this.#taken++;
      if (sink(value) === true) return true;
      return (reached = this.#taken >= until);
    });
    if (answer === PAUSED) return reached ? this.#end() : PAUSED;
    answer = withoutResume(answer);
    return isPromise(answer) ? answer.then(this.#counted) : this.#counted(answer);
  }

  readonly #counted = (pulled: IteratorResult<unknown>): Pulled => {
    if (pulled.done) return this.#end();
    this.#taken++;
    return pulled;
  };

  async #untilMatch(): Promise<IteratorResult<unknown>> {
    const until = this.#node.until as (value: unknown) => unknown;
    const pulled = await this.#upstream.next();
    if (pulled.done) return this.#end();
    let matched = until(pulled.value);
    if (isPromise(matched)) matched = await matched;
    if (reached(this.#node, this.#taken, matched)) return this.#end();
    this.#taken++;
    return pulled;
  }

  async #end(): Promise<IteratorResult<unknown>> {
    await this.return();
    return END;
  }
  async return(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#upstream.return();
  }
}

export const take: Operator<TakeNode> = {
  explain: (n) => `take(${typeof n.until === "number" ? n.until : nameOf(n.until)})`,
  asyncOnly: (n) => (isAsyncFunction(n.until) ? `${take.explain(n)} with an async predicate` : undefined),
  sync: (up, n) => new TakeSync(up, n),
  async: (up, n) => new TakeAsync(up, n),
};
