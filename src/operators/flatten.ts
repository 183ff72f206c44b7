import { isPromise } from "../internal/promise.js";
import { show } from "../internal/show.js";
import { options } from "../internal/validate.js";
import { END, type AsyncPull, type Operator, type SyncPull } from "../plan.js";
import { AsyncIteratorSource, IteratorSource } from "../run/source.js";

export interface FlattenNode {
  readonly op: "flatten";
}

/** Options of `flatten`. */
export interface FlattenOptions {}

export function flattenNode(opts: unknown): FlattenNode {
  options<FlattenOptions>("flatten", opts, []);
  return Object.freeze({ op: "flatten" });
}

function notIterable(value: unknown): TypeError {
  return new TypeError(`\`flatten\` expects iterables, got ${show(value)}`);
}

/** Opens an element as an inner iterator for sync iteration (strings give their characters). */
function openInnerSync(value: unknown): SyncPull {
  if (value !== null && value !== undefined) {
    if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") {
      return new IteratorSource((value as Iterable<unknown>)[Symbol.iterator]());
    }
    if (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      throw new TypeError(
        "`flatten` got an AsyncIterable during sync iteration; iterate with `for await` or a terminal such as `toArray()`",
      );
    }
  }
  throw notIterable(value);
}

/** Opens an element as an inner iterator for async iteration; an object that is both is read as async. */
function openInnerAsync(value: unknown): AsyncPull {
  if (value !== null && value !== undefined && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    return new AsyncIteratorSource((value as AsyncIterable<unknown>)[Symbol.asyncIterator]());
  }
  return openInnerSync(value);
}

/**
 * Yields each inner iterable's elements before pulling the next one. An error
 * from an inner iterator comes out, and the same inner iterator is resumed on
 * the next call; an element that is not iterable becomes a TypeError in its place.
 */
class FlattenSync implements SyncPull {
  readonly #upstream: SyncPull;
  #inner: SyncPull | undefined;
  #done = false;
  constructor(upstream: SyncPull) {
    this.#upstream = upstream;
  }
  next(): IteratorResult<unknown> {
    for (;;) {
      if (this.#done) return END;
      if (this.#inner !== undefined) {
        const result = this.#inner.next();
        if (!result.done) return result;
        this.#inner = undefined;
      }
      const outer = this.#upstream.next();
      if (outer.done) {
        this.#done = true;
        return END;
      }
      this.#inner = openInnerSync(outer.value);
    }
  }
  return(): void {
    if (this.#done) return;
    this.#done = true;
    this.#inner?.return();
    this.#upstream.return();
  }
}

class FlattenAsync implements AsyncPull {
  readonly #upstream: AsyncPull;
  #inner: AsyncPull | undefined;
  #done = false;
  constructor(upstream: AsyncPull) {
    this.#upstream = upstream;
  }
  async next(): Promise<IteratorResult<unknown>> {
    for (;;) {
      if (this.#done) return END;
      if (this.#inner !== undefined) {
        let result = this.#inner.next();
        if (isPromise(result)) result = await result;
        if (!result.done) return result;
        this.#inner = undefined;
      }
      let outer = this.#upstream.next();
      if (isPromise(outer)) outer = await outer;
      if (outer.done) {
        this.#done = true;
        return END;
      }
      this.#inner = openInnerAsync(outer.value);
    }
  }
  async return(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await Promise.all([this.#inner?.return(), this.#upstream.return()]);
  }
}

export const flatten: Operator<FlattenNode> = {
  explain: () => "flatten()",
  sync: (up) => new FlattenSync(up),
  async: (up) => new FlattenAsync(up),
};
