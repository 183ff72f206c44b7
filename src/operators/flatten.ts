import { isPromise } from "../internal/promise.js";
import { show } from "../internal/show.js";
import { integer, options } from "../internal/validate.js";
import { AGAIN, answer, END, Stage, type Handled, type Handler, type Operator, type Outcome, type Pulled, type RunContext } from "../core/stage.js";
import { AsyncIteratorSource, IteratorSource, asyncIteratorOf, iteratorOf } from "../core/sources.js";

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

/**
 * Opens an element as an inner iterator (strings give their characters). In
 * async iteration an object that is both iterable and async iterable is read
 * as async; in sync iteration an async iterable is a TypeError.
 */
function openInner(value: unknown, context: RunContext): Stage {
  if (value !== null && value !== undefined) {
    const asyncIterable = typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
    if (asyncIterable && context.mode === "async") return new AsyncIteratorSource(asyncIteratorOf(value as AsyncIterable<unknown>));
    if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") return new IteratorSource(iteratorOf(value as Iterable<unknown>));
    if (asyncIterable) {
      throw new TypeError(
        "`flatten` got an AsyncIterable during sync iteration; iterate with `for await` or a terminal such as `toArray()`",
      );
    }
  }
  throw notIterable(value);
}

/**
 * Yields each inner iterable's elements before pulling the next one. An error
 * from an inner iterator comes out, and the same inner iterator is resumed on
 * the next call; an element that is not iterable becomes a TypeError in its place.
 */
class Flatten extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #context: RunContext;
  #inner: Stage | undefined;
  /** Whether the pull at hand went to the inner iterator (else to upstream). */
  #fromInner = false;
  #done = false;
  constructor(upstream: Stage, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#context = context;
  }
  next(): Pulled {
    return this.#done ? END : answer(this);
  }
  pull(): Pulled {
    const inner = this.#inner;
    this.#fromInner = inner !== undefined;
    return inner !== undefined ? inner.next() : this.#upstream.next();
  }
  handle(pulled: IteratorResult<unknown>): Handled {
    if (this.#done) return END;
    if (this.#fromInner) {
      if (!pulled.done) return pulled;
      this.#inner = undefined;
      return AGAIN;
    }
    if (pulled.done) {
      this.#done = true;
      return END;
    }
    this.#inner = openInner(pulled.value, this.#context);
    return AGAIN;
  }
  handleError(error: unknown): never {
    throw error;
  }
  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const inner = this.#inner?.return();
    const upstream = this.#upstream.return();
    if (isPromise(inner) || isPromise(upstream)) return Promise.all([inner, upstream]).then(() => {});
  }
}

/** An inner iterator with its request made in advance, or an upstream error waiting for its turn. */
type Slot = { readonly inner: Stage; request: Outcome | Promise<Outcome> } | { readonly inner: undefined; readonly error: unknown };

const ok = (value: IteratorResult<unknown>): Outcome => ({ ok: true, value });
const failed = (error: unknown): Outcome => ({ ok: false, error });

/** Asks `inner` for its next element now: the result, or the error, as a value (or a promise of one). */
function request(inner: Stage): Outcome | Promise<Outcome> {
  try {
    const pulled = inner.next();
    return isPromise(pulled) ? pulled.then(ok, failed) : ok(pulled);
  } catch (error) {
    return failed(error);
  }
}

/** A request's outcome as a pull: the result, or the error thrown (or rejected). */
function asPulled(outcome: Outcome): IteratorResult<unknown> {
  if (outcome.ok) return outcome.value as IteratorResult<unknown>;
  throw outcome.error;
}

/**
 * Reads up to `concurrency` inner iterables round-robin. A queue holds each open
 * inner iterator with one request in advance. Each call takes the head: a value
 * or an error comes out and that iterator goes to the back with a new request;
 * an exhausted one is dropped and its slot refilled from upstream at once.
 * Upstream errors and non-iterable elements take a slot and come out in turn.
 */
class FlattenRoundRobin extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #concurrency: number;
  readonly #context: RunContext;
  readonly #slots: Slot[] = [];
  /** The slot whose request is the pull at hand; undefined while the pull goes to upstream, to fill a slot. */
  #taking: Slot | undefined;
  #upstreamDone = false;
  #done = false;
  constructor(upstream: Stage, concurrency: number, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#concurrency = concurrency;
    this.#context = context;
  }
  next(): Pulled {
    return this.#done ? END : answer(this);
  }
  /** Fills a free slot from upstream first; then the head slot's request. */
  pull(): Pulled {
    if (!this.#upstreamDone && this.#slots.length < this.#concurrency) {
      this.#taking = undefined;
      return this.#upstream.next();
    }
    const slot = this.#slots.shift();
    this.#taking = slot;
    if (slot === undefined) return END;
    if (slot.inner === undefined) throw slot.error;
    const request = slot.request;
    return isPromise(request) ? request.then(asPulled) : asPulled(request);
  }
  handle(pulled: IteratorResult<unknown>): Handled {
    if (this.#done) return END;
    const slot = this.#taking;
    if (slot === undefined) {
      if (this.#slots.length === 0 && this.#upstreamDone) return this.#end(); // no slot left: the end
      if (pulled.done) this.#upstreamDone = true;
      else this.#open(pulled.value);
      return AGAIN;
    }
    if (pulled.done) return AGAIN; // exhausted: dropped, and its slot refilled
    this.#requeue(slot as Extract<Slot, { inner: Stage }>); // an error slot's pull threw: handleError's
    return pulled;
  }
  handleError(error: unknown): Handled {
    const slot = this.#taking;
    if (slot === undefined) {
      this.#slots.push({ inner: undefined, error }); // an upstream error takes a slot and waits its turn
      return AGAIN;
    }
    if (slot.inner !== undefined) this.#requeue(slot); // an inner error: its iterator goes on, from the back
    throw error;
  }
  #open(value: unknown): void {
    let inner: Stage;
    try {
      inner = openInner(value, this.#context);
    } catch (error) {
      this.#slots.push({ inner: undefined, error });
      return;
    }
    this.#slots.push({ inner, request: request(inner) });
  }
  #requeue(slot: Extract<Slot, { inner: Stage }>): void {
    slot.request = request(slot.inner);
    this.#slots.push(slot);
  }
  #end(): IteratorResult<unknown> {
    this.#done = true;
    return END;
  }
  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const closing = [...this.#slots.splice(0).map((slot) => slot.inner?.return()), this.#upstream.return()];
    if (closing.some(isPromise)) return Promise.all(closing).then(() => {});
  }
}

export const flatten: Operator<FlattenNode> = {
  explain: (n) => (n.concurrency === 1 ? "flatten()" : `flatten({ concurrency: ${n.concurrency} })`),
  stage: (up, n, context) => (n.concurrency === 1 ? new Flatten(up, context) : new FlattenRoundRobin(up, n.concurrency, context)),
};
