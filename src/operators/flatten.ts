import { isPromise } from "../internal/promise.js";
import { show } from "../internal/show.js";
import type { Outcome } from "../internal/pool.js";
import { integer, options } from "../internal/validate.js";
import { END, type AsyncPull, type Operator, type SyncPull } from "../plan.js";
import { AsyncIteratorSource, IteratorSource, asyncIteratorOf, iteratorOf } from "../run/source.js";

export interface FlattenNode {
  readonly op: "flatten";
  /** How many inner iterables are read at a time, round-robin. */
  readonly concurrency: number;
}

/** Options of `flatten`. */
export interface FlattenOptions {
  /**
   * Reads up to this many inner iterables at a time, taking one element from each
   * in turn (round-robin), each one reading one element ahead. @default 1
   */
  readonly concurrency?: number;
}

export function flattenNode(opts: unknown): FlattenNode {
  const o = options<FlattenOptions>("flatten", opts, ["concurrency"]);
  return Object.freeze({ op: "flatten", concurrency: o.concurrency === undefined ? 1 : integer("concurrency", o.concurrency, 1) });
}

function notIterable(value: unknown): TypeError {
  return new TypeError(`\`flatten\` expects iterables, got ${show(value)}`);
}

/** Opens an element as an inner iterator for sync iteration (strings give their characters). */
function openInnerSync(value: unknown): SyncPull {
  if (value !== null && value !== undefined) {
    if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") {
      return new IteratorSource(iteratorOf(value as Iterable<unknown>));
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
    return new AsyncIteratorSource(asyncIteratorOf(value as AsyncIterable<unknown>));
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

/** An inner iterator with its pending request, or an upstream error waiting for its turn. */
type Slot<Request> = { readonly inner: SyncPull | AsyncPull; request: Request } | { readonly inner: undefined; readonly error: unknown };

const ok = (value: IteratorResult<unknown>): Outcome => ({ ok: true, value });
const failed = (error: unknown): Outcome => ({ ok: false, error });

/** Asks `inner` for its next element now: the result, or the error, as a value. */
function requestSync(inner: SyncPull): Outcome {
  try {
    return ok(inner.next());
  } catch (error) {
    return failed(error);
  }
}

function requestAsync(inner: AsyncPull): Outcome | Promise<Outcome> {
  try {
    const pulled = inner.next();
    return isPromise(pulled) ? pulled.then(ok, failed) : ok(pulled);
  } catch (error) {
    return failed(error);
  }
}

/**
 * Reads up to `concurrency` inner iterables round-robin. A queue holds each open
 * inner iterator with one request in advance. Each call takes the head: a value
 * or an error comes out and that iterator goes to the back with a new request;
 * an exhausted one is dropped and its slot refilled from upstream at once.
 * Upstream errors and non-iterable elements take a slot and come out in turn.
 */
class FlattenRoundRobinSync implements SyncPull {
  readonly #upstream: SyncPull;
  readonly #concurrency: number;
  readonly #slots: Slot<Outcome>[] = [];
  #upstreamDone = false;
  #done = false;
  constructor(upstream: SyncPull, concurrency: number) {
    this.#upstream = upstream;
    this.#concurrency = concurrency;
  }
  #fill(): void {
    while (!this.#upstreamDone && this.#slots.length < this.#concurrency) {
      try {
        const outer = this.#upstream.next();
        if (outer.done) this.#upstreamDone = true;
        else {
          const inner = openInnerSync(outer.value);
          this.#slots.push({ inner, request: requestSync(inner) });
        }
      } catch (error) {
        this.#slots.push({ inner: undefined, error });
      }
    }
  }
  next(): IteratorResult<unknown> {
    for (;;) {
      if (this.#done) return END;
      this.#fill();
      const slot = this.#slots.shift();
      if (slot === undefined) {
        this.#done = true;
        return END;
      }
      if (slot.inner === undefined) {
        this.#fill();
        throw slot.error;
      }
      const outcome = slot.request;
      if (outcome.ok && (outcome.value as IteratorResult<unknown>).done) continue; // exhausted: dropped, refilled above
      slot.request = requestSync(slot.inner as SyncPull);
      this.#slots.push(slot);
      if (outcome.ok) return outcome.value as IteratorResult<unknown>;
      throw outcome.error;
    }
  }
  return(): void {
    if (this.#done) return;
    this.#done = true;
    for (const slot of this.#slots.splice(0)) slot.inner?.return();
    this.#upstream.return();
  }
}

class FlattenRoundRobinAsync implements AsyncPull {
  readonly #upstream: AsyncPull;
  readonly #concurrency: number;
  readonly #slots: Slot<Outcome | Promise<Outcome>>[] = [];
  #upstreamDone = false;
  #done = false;
  constructor(upstream: AsyncPull, concurrency: number) {
    this.#upstream = upstream;
    this.#concurrency = concurrency;
  }
  async #fill(): Promise<void> {
    while (!this.#upstreamDone && !this.#done && this.#slots.length < this.#concurrency) {
      try {
        const outer = await this.#upstream.next();
        if (outer.done) this.#upstreamDone = true;
        else {
          const inner = openInnerAsync(outer.value);
          this.#slots.push({ inner, request: requestAsync(inner) });
        }
      } catch (error) {
        this.#slots.push({ inner: undefined, error });
      }
    }
  }
  async next(): Promise<IteratorResult<unknown>> {
    for (;;) {
      if (this.#done) return END;
      await this.#fill();
      const slot = this.#slots.shift();
      if (slot === undefined) {
        this.#done = true;
        return END;
      }
      if (slot.inner === undefined) {
        await this.#fill();
        throw slot.error;
      }
      const outcome = await slot.request;
      if (outcome.ok && (outcome.value as IteratorResult<unknown>).done) continue; // exhausted: dropped, refilled above
      slot.request = requestAsync(slot.inner as AsyncPull);
      this.#slots.push(slot);
      if (outcome.ok) return outcome.value as IteratorResult<unknown>;
      throw outcome.error;
    }
  }
  async return(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await Promise.all([...this.#slots.splice(0).map((slot) => slot.inner?.return()), this.#upstream.return()]);
  }
}

export const flatten: Operator<FlattenNode> = {
  explain: (n) => (n.concurrency === 1 ? "flatten()" : `flatten({ concurrency: ${n.concurrency} })`),
  sync: (up, n) => (n.concurrency === 1 ? new FlattenSync(up) : new FlattenRoundRobinSync(up, n.concurrency)),
  async: (up, n) => (n.concurrency === 1 ? new FlattenAsync(up) : new FlattenRoundRobinAsync(up, n.concurrency)),
};
