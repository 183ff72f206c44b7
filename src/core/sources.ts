import { isPromise } from "../internal/promise.js";
import { show } from "../internal/show.js";
import { END, PAUSED, Stage, element, type Drained, type Pulled, type RunContext, type Sink } from "./stage.js";

/** What a stream reads from: an iterable, an async iterable, or a pull function called once per element. */
export type Source<T> = Iterable<T> | AsyncIterable<T> | (() => T | PromiseLike<T>);

/**
 * The method by which a stream opens as another stream's source or inner
 * iterable: an iterator that resumes after an error, so its errors flow on one
 * by one to the outer stream's `catch`, which closes it once. (A language loop
 * gets one that closes on an error, as a generator does.) Registered, so the
 * ESM and CommonJS builds share it.
 */
export const OPEN_RESUMING: unique symbol = Symbol.for("streamable-ts.openResuming") as never;

interface Resumable {
  [OPEN_RESUMING]?(mode: "sync" | "async"): Iterator<unknown> & AsyncIterator<unknown>;
}

/** `iterable`'s iterator; a stream's resumes after errors (see {@link OPEN_RESUMING}). */
export function iteratorOf(iterable: Iterable<unknown>): Iterator<unknown> {
  const open = (iterable as Resumable)[OPEN_RESUMING];
  return typeof open === "function" ? open.call(iterable, "sync") : iterable[Symbol.iterator]();
}

/** `iterable`'s async iterator; a stream's resumes after errors (see {@link OPEN_RESUMING}). */
export function asyncIteratorOf(iterable: AsyncIterable<unknown>): AsyncIterator<unknown> {
  const open = (iterable as Resumable)[OPEN_RESUMING];
  return typeof open === "function" ? open.call(iterable, "async") : iterable[Symbol.asyncIterator]();
}

export type SourceKind = "iterable" | "async iterable" | "function";

/** What kind of source `value` is; throws a TypeError naming `name` when it is none. */
export function sourceKind(value: unknown, name = "source"): SourceKind {
  if (typeof value === "function") return "function";
  if (value !== null && value !== undefined) {
    if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") return "iterable";
    if (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") return "async iterable";
  }
  throw new TypeError(`\`${name}\` must be an Iterable, an AsyncIterable or a function, got ${show(value)}`);
}

/** Wraps a user's sync iterator: `return()` reaches it once. */
export class IteratorSource extends Stage {
  readonly #iterator: Iterator<unknown>;
  #closed = false;
  constructor(iterator: Iterator<unknown>) {
    super();
    this.#iterator = iterator;
  }
  next(): IteratorResult<unknown> {
    return this.#closed ? END : this.#iterator.next();
  }
  /** Push mode: the iterator's elements straight to `sink` (a loop of this class's own, which the engine optimises for it). */
  override drain(sink: Sink): Drained {
    for (;;) {
      const pulled = this.next();
      if (pulled.done) return pulled;
      if (sink(pulled.value) === true) return PAUSED;
    }
  }
  return(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#iterator.return?.();
  }
}

/** An array read by index: the fastest sync source. A run of steps right after it reads `array` itself. */
export class ArraySource extends Stage {
  readonly array: ArrayLike<unknown>;
  #index = 0;
  #closed = false;
  constructor(array: ArrayLike<unknown>) {
    super();
    this.array = array;
  }
  next(): IteratorResult<unknown> {
    // One result literal for elements and the end: see `result` in steps.ts.
    const done = this.#closed || this.#index >= this.array.length;
    if (done) this.#closed = true;
    return { done, value: done ? undefined : this.array[this.#index++] } as IteratorResult<unknown>;
  }
  /** Push mode: the array's elements straight to `sink`, no result object each. */
  override drain(sink: Sink): Drained {
    const array = this.array;
    while (!this.#closed && this.#index < array.length) {
      if (sink(array[this.#index++]) === true) return PAUSED;
    }
    this.#closed = true;
    return END;
  }
  return(): void {
    this.#closed = true;
  }
}

/** A pull function: called once per element, forever; end it with `take` or `catch(..., { stop })`. */
class FunctionSource extends Stage {
  readonly #pull: () => unknown;
  readonly #mode: "sync" | "async";
  #closed = false;
  constructor(pull: () => unknown, mode: "sync" | "async") {
    super();
    this.#pull = pull;
    this.#mode = mode;
  }
  next(): Pulled {
    if (this.#closed) return END;
    const value = this.#pull();
    if (isPromise(value)) {
      if (this.#mode === "sync") {
        Promise.resolve(value).catch(() => {});
        throw new TypeError(
          "the source function returned a Promise during sync iteration; iterate with `for await` or a terminal such as `toArray()`",
        );
      }
      return Promise.resolve(value).then(element);
    }
    return element(value);
  }
  return(): void {
    this.#closed = true;
  }
}

/** Wraps a user's async iterator: `return()` reaches it once. */
export class AsyncIteratorSource extends Stage {
  readonly #iterator: AsyncIterator<unknown>;
  #closed = false;
  constructor(iterator: AsyncIterator<unknown>) {
    super();
    this.#iterator = iterator;
  }
  next(): Pulled {
    return this.#closed ? END : this.#iterator.next();
  }
  async return(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#iterator.return?.();
  }
}

/**
 * Opens `source` for a run: a pull function, an array read by index, or an
 * iterator; in async iteration an async iterable is read as one (an object
 * that is both is read as async).
 */
export function openSource(source: Source<unknown>, context: Pick<RunContext, "mode">): Stage {
  if (typeof source === "function") return new FunctionSource(source, context.mode);
  if (context.mode === "async" && typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    return new AsyncIteratorSource(asyncIteratorOf(source as AsyncIterable<unknown>));
  }
  if (Array.isArray(source)) return new ArraySource(source);
  return new IteratorSource(iteratorOf(source as Iterable<unknown>));
}
