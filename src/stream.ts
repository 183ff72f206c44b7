import { catchNode, type CatchOptions, type ErrorClass } from "./operators/catch.js";
import { concatNode } from "./operators/concat.js";
import { doNode } from "./operators/do.js";
import { filterNode } from "./operators/filter.js";
import { flattenNode, type FlattenOptions } from "./operators/flatten.js";
import { groupNode, type GroupOptions } from "./operators/group.js";
import { mapNode, type MapOptions } from "./operators/map.js";
import { observeNode, type ObserveOptions } from "./operators/observe.js";
import { skipNode } from "./operators/skip.js";
import { takeNode } from "./operators/take.js";
import { throttleNode, type ThrottleOptions } from "./operators/throttle.js";
import { bufferNode } from "./operators/buffer.js";
import { func } from "./internal/validate.js";
import { isPromise } from "./internal/promise.js";
import { Collected } from "./internal/collect.js";
import type { Plan, PlanNode, Source } from "./plan.js";
import type { CallOptions } from "./core/stage.js";
import type { Duration } from "./internal/duration.js";
import { explain } from "./run/explain.js";
import { iterateOptions, iteratorOptions, StreamIterator, type IterateOptions, type IteratorOptions } from "./run/iterate.js";
import { AsyncStreamIterator } from "./run/iterate-async.js";
import { OPEN_RESUMING, sourceKind } from "./core/sources.js";
import { drainInto, forEachElement } from "./run/terminal.js";

/** Options of a terminal operation (`toArray`, `count`, `reduce`, `run`). */
export interface RunOptions extends IterateOptions {}

/** The brand of a stream, one for both builds (`Symbol.for`). */
const STREAM_BRAND = Symbol.for("streamable-ts.Stream");

/**
 * Whether `value` is a stream of this library, from either build (ES module
 * or CommonJS): the same as `value instanceof Stream`.
 *
 * @example
 * ```ts
 * isStream(stream([1, 2])); // → true
 * isStream([1, 2]); // → false
 * ```
 */
export function isStream(value: unknown): value is Stream<unknown> {
  return typeof value === "object" && value !== null && (value as { [STREAM_BRAND]?: unknown })[STREAM_BRAND] === true;
}

/**
 * A lazy, immutable pipeline over a source. Building it touches nothing: each
 * method checks its arguments, then returns a new stream with one more step.
 * Iterating it (with `for await`, a terminal, or `for ... of` for a
 * {@link SyncStream}) opens the source and runs the steps, element by element.
 *
 * An error thrown by the source or by a callback comes out in place of its
 * element, and the iteration goes on with the next element: `catch` decides
 * what to do with it.
 */
export class Stream<T> implements AsyncIterable<T> {
  readonly #plan: Plan;

  /**
   * `x instanceof Stream` holds for a stream of either build (ES module or
   * CommonJS: a program that loads both has two `Stream` classes) by a brand
   * both share. See {@link isStream}.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isStream(value);
  }

  /** @internal The brand {@link isStream} reads. */
  get [STREAM_BRAND](): true {
    return true;
  }

  /** @internal Use {@link stream}. */
  constructor(plan: Plan) {
    this.#plan = plan;
  }

  #with<U>(node: PlanNode): Stream<U> {
    return new Stream<U>({ source: this.#plan.source, nodes: [...this.#plan.nodes, node] });
  }

  /**
   * Applies `into` to each element. In async iteration a returned promise is
   * awaited. An error thrown by `into` comes out in place of its element.
   *
   * With `concurrency: n`, up to `n` calls run at once (async iteration), results
   * in upstream order, or in completion order with `asCompleted: true`; at most
   * `n + 1` elements are pulled ahead of the consumer.
   *
   * @param into - Called with the element and `{ signal }`, a signal aborted when the iteration ends early.
   * @param options.concurrency - Calls at once, at least 1. @default 1
   * @param options.asCompleted - Yield results as they complete. @default false
   * @throws RangeError if `concurrency` is not an integer >= 1.
   * @example Parse lines
   * ```ts
   * await stream(["1", "2"]).map(Number).toArray(); // → [1, 2]
   * ```
   * @example Three calls at a time, results in order
   * ```ts
   * await stream([3, 1, 2]).map(async (x) => x * 10, { concurrency: 3 }).toArray(); // → [30, 10, 20]
   * ```
   */
  map<U>(into: (value: T, options: CallOptions) => U, options?: MapOptions): Stream<Awaited<U>> {
    return this.#with(mapNode(into, options));
  }

  /**
   * Calls `effect` on each element for its side effect and yields the element
   * unchanged (after the effect's promise settles, in async iteration).
   *
   * @example Log each element
   * ```ts
   * const seen: number[] = [];
   * await stream([1, 2]).do((x) => void seen.push(x)).toArray(); // → [1, 2]
   * seen; // → [1, 2]
   * ```
   */
  do(effect: (value: T, options: CallOptions) => unknown, options?: MapOptions): Stream<T> {
    return this.#with(doNode(effect, options));
  }

  /**
   * Keeps the elements for which `where` is truthy; a type guard narrows the
   * element type. Defaults to `Boolean`.
   *
   * @example Keep even numbers
   * ```ts
   * await stream([1, 2, 3, 4]).filter((x) => x % 2 === 0).toArray(); // → [2, 4]
   * ```
   */
  filter<S extends T>(where: (value: T) => value is S): Stream<S>;
  filter(where?: (value: T) => unknown): Stream<T>;
  filter(where?: (value: T) => unknown): Stream<T> {
    return this.#with(filterNode(where));
  }

  /**
   * Yields the elements of each element, which must be iterable (async
   * iterables only in async iteration). A non-iterable element becomes a
   * TypeError in its place; an error from an inner iterator comes out and that
   * same inner iterator is resumed on the next call. With `concurrency: n`, up to
   * `n` inner iterables are read round-robin, a finished one replaced at once.
   *
   * @example Flatten pages
   * ```ts
   * await stream([[1, 2], [3]]).flatten().toArray(); // → [1, 2, 3]
   * ```
   * @example Round-robin
   * ```ts
   * await stream([[1, 2], [3, 4]]).flatten({ concurrency: 2 }).toArray(); // → [1, 3, 2, 4]
   * ```
   */
  flatten<U>(this: Stream<Iterable<U> | AsyncIterable<U>>, options?: FlattenOptions): Stream<U> {
    return this.#with(flattenNode(options));
  }

  /**
   * Groups elements into arrays of at most `upTo` elements; with `by`, into
   * `[key, elements]` pairs, one pending group per key, emitted in the order the
   * groups were created. When upstream ends, pending groups are emitted oldest
   * first. On an error (from upstream or `by`), pending groups are emitted first
   * and the error comes out after them.
   *
   * With `within` (async iteration only), a group is also emitted once `within`
   * has passed since its first element, even while upstream is still waiting;
   * one group per deadline, oldest first. In a run of ready elements the clock
   * is read every 16th element, so a group due mid-run comes out at most 15
   * elements later.
   *
   * @param upTo - Largest group size; at least 1. `group()` gathers everything in one array.
   * @param options.within - Longest time a group stays pending: milliseconds, or "500ms", "1s", "2m", "1h".
   * @throws RangeError if `upTo` is below 1 or not an integer; TypeError or RangeError for a bad `within`.
   * @example Batches of two
   * ```ts
   * await stream([1, 2, 3, 4, 5]).group(2).toArray(); // → [[1, 2], [3, 4], [5]]
   * ```
   * @example By key
   * ```ts
   * await stream([1, 2, 3]).group({ by: (x) => x % 2 }).toArray(); // → [[1, [1, 3]], [0, [2]]]
   * ```
   */
  group(upTo?: number): Stream<T[]>;
  group<K>(options: GroupOptions<T, K> & { readonly by: (value: T) => K | PromiseLike<K> }): Stream<[K, T[]]>;
  group(options: Omit<GroupOptions<T, never>, "by">): Stream<T[]>;
  group(arg?: number | GroupOptions<T, unknown>): Stream<unknown> {
    return this.#with(groupNode(arg));
  }

  /**
   * Yields the first `until` elements, or the elements before the first one for
   * which `until` is truthy (that one is consumed, not yielded). Errors pass
   * through and do not count. Once done, upstream is closed and not pulled again.
   *
   * @example The first three
   * ```ts
   * await stream([1, 2, 3, 4]).take(3).toArray(); // → [1, 2, 3]
   * ```
   */
  take(until: number | ((value: T) => unknown)): Stream<T> {
    return this.#with(takeNode(until));
  }

  /**
   * Drops the first `until` elements, or the elements before the first one for
   * which `until` is truthy (that one and all after it are yielded). Errors pass
   * through and do not count.
   *
   * @example Skip a header
   * ```ts
   * await stream(["id", "1", "2"]).skip(1).toArray(); // → ["1", "2"]
   * ```
   */
  skip(until: number | ((value: T) => unknown)): Stream<T> {
    return this.#with(skipNode(until));
  }

  /**
   * Handles errors thrown upstream. An error is caught when it is an instance of
   * `errors` (any error when omitted) and `where` is truthy for it. A caught
   * error is skipped, or replaced by `replace(error)`; `do` sees it first;
   * `stop` ends the stream there; `finallyThrow` throws the first caught error
   * once upstream is exhausted, so a job survives bad elements and still fails.
   *
   * @example Skip what does not parse
   * ```ts
   * const parse = (s: string) => { const n = Number(s); if (Number.isNaN(n)) throw new SyntaxError(s); return n; };
   * await stream(["1", "x", "3"]).map(parse).catch(SyntaxError).toArray(); // → [1, 3]
   * ```
   */
  catch(): Stream<T>;
  catch<E = unknown, U = never>(options: CatchOptions<E, U>): Stream<T | U>;
  catch<E, U = never>(errors: ErrorClass<E> | readonly ErrorClass<E>[], options?: CatchOptions<E, U>): Stream<T | U>;
  catch(errors?: unknown, options?: unknown): Stream<unknown> {
    return this.#with(catchNode(errors, options));
  }

  /**
   * Counts the elements and errors going by and reports them: by default as a
   * logfmt line on stderr when the counts reach 1, 2, 4, 8, ... and at the end.
   *
   * @param subject - What is counted, as the reports name it ("users").
   * @param options.every - A number: report every `every` elements (and errors).
   *   A duration string ("30s"): report at the start and then at that period (async iteration only).
   * @param options.do - Receives each {@link Observation} instead of the log line; its errors are ignored.
   * @example Watch progress
   * ```ts
   * await stream([1, 2, 3]).observe("ints").run();
   * // stderr: 2026-11-24T00:27:35Z INFO observed=ints elapsed=12µs errors=0 elements=1
   * // ... elements=2, then the final report with elements=3
   * ```
   */
  observe(subject: string, options?: ObserveOptions): Stream<T> {
    return this.#with(observeNode(subject, options));
  }

  /**
   * Limits the rate: at most `upTo` emissions (elements and errors) in any
   * sliding window of `per`. The first `upTo` go at once; each later one waits
   * until the one `upTo` places before it is `per` old. It pulls first and then
   * waits, so time spent upstream counts. Async iteration only.
   *
   * @param upTo - Emissions per window, at least 1.
   * @param options.per - The window: milliseconds, or "500ms", "1s", "2m", "1h".
   * @throws RangeError if `upTo` is below 1; TypeError if `per` is missing or not a positive duration.
   * @example 16 requests per second
   * ```ts
   * await stream([1, 2, 3]).throttle(16, { per: "1s" }).toArray(); // → [1, 2, 3]
   * ```
   */
  throttle(upTo: number, options: ThrottleOptions): Stream<T> {
    return this.#with(throttleNode(upTo, options));
  }

  /**
   * Pulls upstream ahead of the consumer, in the background, keeping up to
   * `upTo` elements ready; errors wait in their place. Decouples a slow producer
   * from a slow consumer. Async iteration only.
   *
   * @param upTo - Most elements waiting, at least 1.
   * @example
   * ```ts
   * await stream([1, 2, 3]).buffer(2).toArray(); // → [1, 2, 3]
   * ```
   */
  buffer(upTo: number): Stream<T> {
    return this.#with(bufferNode(upTo));
  }

  /**
   * Yields this stream's elements, then each source's in turn.
   *
   * @example
   * ```ts
   * await stream([1]).concat([2], [3]).toArray(); // → [1, 2, 3]
   * ```
   */
  concat<U>(...sources: (Iterable<U> | AsyncIterable<U>)[]): Stream<T | U> {
    return this.#with(concatNode(sources));
  }

  /**
   * Returns `fn(this, ...args)`: a custom step that reads as part of the chain.
   *
   * @example
   * ```ts
   * const evens = (s: Stream<number>) => s.filter((x) => x % 2 === 0);
   * await stream([1, 2, 3, 4]).pipe(evens).toArray(); // → [2, 4]
   * ```
   */
  pipe<R, A extends unknown[]>(fn: (stream: this, ...args: A) => R, ...args: A): R {
    return func<typeof fn>("fn", fn)(this, ...args);
  }

  /**
   * Iterates to the end and resolves with the elements, in order, in a new
   * array. The first error rejects it. Large results are gathered in small
   * chunks and joined once at the end, which the garbage collector handles
   * better than one array growing by millions of elements.
   *
   * @example Collect what a pipeline yields
   * ```ts
   * await stream([1, 2, 3]).map((x) => x * 2).toArray(); // → [2, 4, 6]
   * ```
   */
  async toArray(options?: RunOptions): Promise<T[]> {
    const collected = new Collected<T>();
    await drainInto(this.#plan, iterateOptions("toArray", options), collected.add as (value: unknown) => void);
    return collected.toArray();
  }

  /**
   * Iterates to the end and resolves with the number of elements. The first error rejects it.
   *
   * @example Count what passes a filter
   * ```ts
   * await stream([1, 2, 3, 4, 5]).filter((x) => x % 2 === 1).count(); // → 3
   * ```
   */
  async count(options?: RunOptions): Promise<number> {
    let n = 0;
    await drainInto(this.#plan, iterateOptions("count", options), () => void n++);
    return n;
  }

  /**
   * Folds the elements with `fn`, from `initial`; an async `fn` is awaited. The
   * first error rejects it. Without `initial`, as `Array.prototype.reduce`: the
   * first element is the start, and an empty stream rejects with a TypeError.
   *
   * @example Sum the sizes of batches
   * ```ts
   * await stream([1, 2, 3, 4, 5]).group(2).reduce((total, batch) => total + batch.length, 0); // → 5
   * ```
   * @example Without an initial value
   * ```ts
   * await stream([3, 9, 4]).reduce((a, b) => Math.max(a, b)); // → 9
   * ```
   */
  reduce(fn: (accumulator: T, value: T) => T | PromiseLike<T>): Promise<T>;
  reduce<A>(fn: (accumulator: A, value: T) => A | PromiseLike<A>, initial: A, options?: RunOptions): Promise<A>;
  async reduce(fn: (accumulator: never, value: T) => unknown, ...rest: [initial?: unknown, options?: RunOptions]): Promise<unknown> {
    func("fn", fn);
    const options = iterateOptions("reduce", rest[1]);
    let started = rest.length > 0;
    let accumulator = rest[0];
    await forEachElement(this.#plan, options, (x) => {
      if (!started) {
        started = true;
        accumulator = x;
        return undefined;
      }
      const next = fn(accumulator as never, x as T);
      if (isPromise(next)) return Promise.resolve(next).then((a) => void (accumulator = a));
      accumulator = next;
      return undefined;
    });
    if (!started) throw new TypeError("`reduce` of an empty stream with no initial value");
    return accumulator;
  }

  /**
   * Iterates to the end for the steps' effects; the first error rejects it.
   * With `{ signal }`, an abort stops the iteration, closes the source and
   * rejects with the signal's reason.
   *
   * @example Run a job for its effects, stoppable by a signal
   * ```ts
   * const sent: number[][] = [];
   * await stream([1, 2, 3]).group(2).do((batch) => void sent.push(batch)).run({ signal: AbortSignal.timeout(60_000) });
   * sent; // → [[1, 2], [3]]
   * ```
   */
  async run(options?: RunOptions): Promise<void> {
    await drainInto(this.#plan, iterateOptions("run", options), () => undefined);
  }

  /**
   * An async iterator over this stream; `options` gives it a signal or a clock.
   * With `await using`, leaving the scope closes the iteration down to the source.
   *
   * @example
   * ```ts
   * await using rows = stream([1, 2, 3]).iterateAsync();
   * (await rows.next()).value; // → 1
   * ```
   */
  iterateAsync(options?: IteratorOptions): AsyncIterableIterator<T> & { [Symbol.asyncDispose](): Promise<void> } {
    return new AsyncStreamIterator<T>(this.#plan, iteratorOptions("iterateAsync", options));
  }

  /** What `for await` calls: an error that comes out closes the iteration first, as a generator's does. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return new AsyncStreamIterator<T>(this.#plan);
  }

  /** @internal This stream as another's source: its errors flow on, one by one (see `OPEN_RESUMING`). */
  [OPEN_RESUMING](mode: "sync" | "async"): Iterator<T> | AsyncIterator<T> {
    const options = { afterError: "resume" } as const;
    return mode === "sync" ? new StreamIterator<T>(this.#plan, options) : new AsyncStreamIterator<T>(this.#plan, options);
  }

  /**
   * The plan as text, one operation per line, as it reads in code.
   *
   * @example
   * ```ts
   * stream([1, 2]).map(String).explain(); // → "stream(Array(2))\n  .map(String)"
   * ```
   */
  explain(): string {
    return explain(this.#plan);
  }

  toString(): string {
    return this.explain();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.explain();
  }

  // Every stream has `iterate` and `[Symbol.iterator]` at run time, but only the
  // type `SyncStream` shows them: a plan that cannot run synchronously throws a
  // TypeError that says why and to use `for await`.
  static {
    Object.defineProperties(this.prototype, {
      iterate: {
        value: function iterate(this: Stream<unknown>, options?: IteratorOptions) {
          return new StreamIterator(this.#plan, iteratorOptions("iterate", options));
        },
      },
      [Symbol.iterator]: {
        value: function iterator(this: Stream<unknown>) {
          return new StreamIterator(this.#plan);
        },
      },
    });
  }
}

/** `Sync` when a callback result `R` is never a promise, else `Async`: an async callback leaves sync iteration. */
type SyncIf<R, Sync, Async> = [Extract<R, PromiseLike<unknown>>] extends [never] ? Sync : Async;

/**
 * A {@link Stream} that can also be iterated synchronously with `for ... of`:
 * its source is synchronous and none of its steps is async-only. A callback
 * that returns a promise during sync iteration throws a TypeError saying to
 * use `for await`.
 */
export interface SyncStream<T> extends Stream<T>, Iterable<T> {
  map<U>(into: (value: T, options: CallOptions) => U, options?: MapOptions): SyncIf<U, SyncStream<Awaited<U>>, Stream<Awaited<U>>>;
  do<R>(effect: (value: T, options: CallOptions) => R, options?: MapOptions): SyncIf<R, SyncStream<T>, Stream<T>>;
  filter<S extends T>(where: (value: T) => value is S): SyncStream<S>;
  filter<R>(where?: (value: T) => R): SyncIf<R, SyncStream<T>, Stream<T>>;
  flatten<U>(this: SyncStream<Iterable<U>>, options?: FlattenOptions): SyncStream<U>;
  flatten<U>(this: Stream<Iterable<U> | AsyncIterable<U>>, options?: FlattenOptions): Stream<U>;
  group(upTo?: number): SyncStream<T[]>;
  group<K>(options: GroupOptions<T, K> & { readonly within: Duration; readonly by: (value: T) => K | PromiseLike<K> }): Stream<[K, T[]]>;
  group(options: Omit<GroupOptions<T, never>, "by"> & { readonly within: Duration }): Stream<T[]>;
  group<K>(options: Omit<GroupOptions<T, K>, "within"> & { readonly by: (value: T) => K }): SyncIf<K, SyncStream<[K, T[]]>, Stream<[Awaited<K>, T[]]>>;
  group(options: Omit<GroupOptions<T, never>, "by" | "within">): SyncStream<T[]>;
  take(until: number | ((value: T) => unknown)): SyncStream<T>;
  skip(until: number | ((value: T) => unknown)): SyncStream<T>;
  catch(): SyncStream<T>;
  catch<E = unknown, U = never>(options: CatchOptions<E, U>): SyncStream<T | U>;
  catch<E, U = never>(errors: ErrorClass<E> | readonly ErrorClass<E>[], options?: CatchOptions<E, U>): SyncStream<T | U>;
  observe(subject: string, options: ObserveOptions & { readonly every: `${number}${"ms" | "s" | "m" | "h"}` }): Stream<T>;
  observe(subject: string, options?: ObserveOptions & { readonly every?: number }): SyncStream<T>;
  concat<U>(...sources: Iterable<U>[]): SyncStream<T | U>;
  concat<U>(...sources: (Iterable<U> | AsyncIterable<U>)[]): Stream<T | U>;
  /**
   * A sync iterator over this stream; `options` gives it a signal, a clock, or
   * `afterError: "resume"` to go on after an error. With `using`, leaving the scope closes it.
   */
  iterate(options?: IteratorOptions): IterableIterator<T> & { [Symbol.dispose](): void };
  [Symbol.iterator](): IterableIterator<T>;
}

/**
 * A lazy stream over `source`: an `Iterable`, an `AsyncIterable`, or a pull
 * function called once per element (end it with `take` or `catch(..., { stop: true })`).
 * Nothing is read until the stream is iterated; each iteration opens the source anew.
 *
 * @throws TypeError if `source` is none of these.
 * @example
 * ```ts
 * [...stream([1, 2, 3]).map((x) => x * 10)]; // → [10, 20, 30]
 * ```
 */
export function stream<T>(source: Iterable<T>): SyncStream<T>;
export function stream<T>(source: AsyncIterable<T>): Stream<T>;
export function stream<T>(source: () => PromiseLike<T>): Stream<T>;
export function stream<T>(source: () => T): SyncStream<T>;
export function stream<T>(source: Source<T>): Stream<T>;
export function stream<T>(source: Source<T>): Stream<T> {
  sourceKind(source);
  return new Stream<T>({ source, nodes: [] });
}
