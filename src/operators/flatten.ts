import { isPromise } from "../internal/promise.js";
import { show } from "../internal/show.js";
import { integer, options } from "../internal/validate.js";
import { Queue } from "../core/queue.js";
import { AGAIN, answer, END, Stage, type Handled, type Handler, type Operator, type Pulled, type RunContext } from "../core/stage.js";
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
  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const inner = this.#inner?.return();
    const upstream = this.#upstream.return();
    if (isPromise(inner) || isPromise(upstream)) return Promise.all([inner, upstream]).then(() => {});
  }
}

/** Where the pull at hand went: to upstream, to fill a slot, or to the head of the queue. */
const FILLING = Symbol("FILLING");

/**
 * Reads up to `concurrency` inner iterables round-robin, on the ordered
 * {@link Queue}: each open inner iterator has one request in it, made in
 * advance. Each call takes the head: a value or an error comes out and that
 * iterator's next request is added at the back; an exhausted one is dropped and
 * its slot refilled from upstream at once. Upstream errors and non-iterable
 * elements take a slot and come out in turn.
 */
class FlattenRoundRobin extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #concurrency: number;
  readonly #context: RunContext;
  readonly #queue = new Queue("ordered");
  /** The inner iterator whose request is the pull at hand, or FILLING while the pull goes to upstream. */
  #taking: Stage | undefined | typeof FILLING;
  /** The inner iterators open now, to close them. */
  readonly #open = new Set<Stage>();
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
  /** Fills a free slot from upstream first; then the head's request. */
  pull(): Pulled {
    if (!this.#upstreamDone && this.#queue.size < this.#concurrency) {
      this.#taking = FILLING;
      return this.#upstream.next();
    }
    const queue = this.#queue;
    const head = queue.take();
    if (head === undefined) {
      if (queue.size > 0) return queue.settling().then(() => this.pull());
      this.#taking = FILLING; // nothing left to fill from or to take: the end
      return END;
    }
    this.#taking = head.from as Stage | undefined;
    if (head.state === "failed") throw head.value;
    return head.value as IteratorResult<unknown>;
  }
  handle(pulled: IteratorResult<unknown>): Handled {
    if (this.#done) return END;
    const inner = this.#taking;
    if (inner === FILLING) {
      if (!pulled.done) this.#start(pulled.value);
      else if (this.#upstreamDone || this.#queue.size === 0) return this.#end(); // nothing left to take
      else this.#upstreamDone = true;
      return AGAIN;
    }
    if (!pulled.done) {
      this.#request(inner!);
      return pulled;
    }
    this.#open.delete(inner!); // exhausted: dropped, and its slot refilled
    return AGAIN;
  }
  handleError(error: unknown): Handled {
    const inner = this.#taking;
    if (inner === FILLING) {
      this.#queue.addFailure(error); // an upstream error takes a slot and waits its turn
      return AGAIN;
    }
    if (inner !== undefined) this.#request(inner); // an inner error: its iterator goes on, from the back
    throw error;
  }
  /** Opens an element as an inner iterator and makes its first request; a non-iterable one is an error in its slot. */
  #start(value: unknown): void {
    let inner: Stage;
    try {
      inner = openInner(value, this.#context);
    } catch (error) {
      this.#queue.addFailure(error);
      return;
    }
    this.#open.add(inner);
    this.#request(inner);
  }
  /** Adds `inner`'s next request at the back of the queue: its result, or its error, as a value. */
  #request(inner: Stage): void {
    const entry = this.#queue.add(undefined, inner);
    try {
      this.#queue.settle(entry, inner.next());
    } catch (error) {
      this.#queue.fail(entry, error);
    }
  }
  #end(): IteratorResult<unknown> {
    this.#done = true;
    return END;
  }
  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#queue.clear();
    const closing = [...[...this.#open].map((inner) => inner.return()), this.#upstream.return()];
    this.#open.clear();
    if (closing.some(isPromise)) return Promise.all(closing).then(() => {});
  }
}

export const flatten: Operator<FlattenNode> = {
  explain: (n) => (n.concurrency === 1 ? "flatten()" : `flatten({ concurrency: ${n.concurrency} })`),
  stage: (up, n, context) => (n.concurrency === 1 ? new Flatten(up, context) : new FlattenRoundRobin(up, n.concurrency, context)),
};
