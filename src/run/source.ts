import { isPromise } from "../internal/promise.js";
import { show } from "../internal/show.js";
import { END, element, type AsyncPull, type Pulled, type Source, type SyncPull } from "../plan.js";

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
export class IteratorSource implements SyncPull {
  readonly #iterator: Iterator<unknown>;
  #closed = false;
  constructor(iterator: Iterator<unknown>) {
    this.#iterator = iterator;
  }
  next(): IteratorResult<unknown> {
    return this.#closed ? END : this.#iterator.next();
  }
  return(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#iterator.return?.();
  }
}

/** An array read by index: the fastest sync source. A run of steps right after it reads `array` itself. */
export class ArraySource implements SyncPull {
  readonly array: ArrayLike<unknown>;
  #index = 0;
  #closed = false;
  constructor(array: ArrayLike<unknown>) {
    this.array = array;
  }
  next(): IteratorResult<unknown> {
    // One result literal for elements and the end: see `result` in steps.ts.
    const done = this.#closed || this.#index >= this.array.length;
    if (done) this.#closed = true;
    return { done, value: done ? undefined : this.array[this.#index++] } as IteratorResult<unknown>;
  }
  return(): void {
    this.#closed = true;
  }
}

/** A pull function: called once per element, forever; end it with `take` or `catch(..., { stop })`. */
class FunctionSource implements SyncPull, AsyncPull {
  readonly #pull: () => unknown;
  readonly #mode: "sync" | "async";
  #closed = false;
  constructor(pull: () => unknown, mode: "sync" | "async") {
    this.#pull = pull;
    this.#mode = mode;
  }
  next(): IteratorResult<unknown> & Pulled {
    if (this.#closed) return END;
    const value = this.#pull();
    if (isPromise(value)) {
      if (this.#mode === "sync") {
        Promise.resolve(value).catch(() => {});
        throw new TypeError(
          "the source function returned a Promise during sync iteration; iterate with `for await` or a terminal such as `toArray()`",
        );
      }
      return Promise.resolve(value).then(element) as never;
    }
    return element(value);
  }
  return(): void {
    this.#closed = true;
  }
}

/** Wraps a user's async iterator: `return()` reaches it once. */
export class AsyncIteratorSource implements AsyncPull {
  readonly #iterator: AsyncIterator<unknown>;
  #closed = false;
  constructor(iterator: AsyncIterator<unknown>) {
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

export function openSourceSync(source: Source<unknown>): SyncPull {
  if (typeof source === "function") return new FunctionSource(source, "sync");
  if (Array.isArray(source)) return new ArraySource(source);
  return new IteratorSource(iteratorOf(source as Iterable<unknown>));
}

export function openSourceAsync(source: Source<unknown>): AsyncPull {
  if (typeof source === "function") return new FunctionSource(source, "async");
  if (typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    return new AsyncIteratorSource(asyncIteratorOf(source as AsyncIterable<unknown>));
  }
  return openSourceSync(source);
}
