import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { type AsyncPull, type Pulled, type Operator, type Resume, type Sink, type SyncPull } from "../plan.js";
import { promiseInSyncIteration } from "../run/steps.js";
import { untilArgument } from "./take.js";

export interface SkipNode {
  readonly op: "skip";
  /** How many elements to drop, or the predicate of the first element to keep. */
  readonly until: number | ((value: unknown) => unknown);
}

export function skipNode(until: unknown): SkipNode {
  return Object.freeze({ op: "skip", until: untilArgument("skip", until) });
}

/**
 * Drops the first `until` elements, or the elements before the first one
 * matching `until`; that one and everything after it are yielded, and the
 * predicate is not called again. Errors pass through and do not count.
 */
class SkipSync implements SyncPull {
  readonly #upstream: SyncPull;
  readonly #node: SkipNode;
  #skipped = 0;
  #skipping = true;
  constructor(upstream: SyncPull, node: SkipNode) {
    this.#upstream = upstream;
    this.#node = node;
    this.#skipping = node.until !== 0;
  }
  next(): IteratorResult<unknown> {
    for (;;) {
      const pulled = this.#upstream.next();
      if (!this.#skipping || pulled.done) return pulled;
      const until = this.#node.until;
      if (typeof until === "number") {
        this.#skipping = ++this.#skipped < until;
        continue;
      }
      const matched = until(pulled.value);
      if (isPromise(matched)) throw promiseInSyncIteration({ label: skip.explain(this.#node) }, matched);
      if (matched) {
        this.#skipping = false;
        return pulled;
      }
    }
  }
  return(): void {
    this.#upstream.return();
  }
}

class SkipAsync implements AsyncPull {
  readonly #upstream: AsyncPull;
  readonly #node: SkipNode;
  #skipped = 0;
  #skipping = true;
  constructor(upstream: AsyncPull, node: SkipNode) {
    this.#upstream = upstream;
    this.#node = node;
    this.#skipping = node.until !== 0;
  }
  next(): Pulled {
    // Once skipping is over, this stage costs nothing: upstream answers directly.
    return this.#skipping ? this.#skipAhead() : this.#upstream.next();
  }
  /** Push mode (see `AsyncPull.drain`): once skipping is over, upstream's own. */
  drain(sink: Sink): Pulled | Resume {
    const upstream = this.#upstream;
    if (this.#skipping || upstream.drain === undefined) return this.next();
    return upstream.drain(sink);
  }
  async #skipAhead(): Promise<IteratorResult<unknown>> {
    for (;;) {
      const next = this.#upstream.next();
      const pulled = isPromise(next) ? await next : next;
      if (!this.#skipping || pulled.done) return pulled;
      const until = this.#node.until;
      if (typeof until === "number") {
        this.#skipping = ++this.#skipped < until;
        continue;
      }
      let matched = until(pulled.value);
      if (isPromise(matched)) matched = await matched;
      if (matched) {
        this.#skipping = false;
        return pulled;
      }
    }
  }
  return(): void | Promise<void> {
    return this.#upstream.return();
  }
}

export const skip: Operator<SkipNode> = {
  explain: (n) => `skip(${typeof n.until === "number" ? n.until : nameOf(n.until)})`,
  asyncOnly: (n) => (isAsyncFunction(n.until) ? `${skip.explain(n)} with an async predicate` : undefined),
  sync: (up, n) => new SkipSync(up, n),
  async: (up, n) => new SkipAsync(up, n),
};
