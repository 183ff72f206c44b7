import assert from "node:assert/strict";
import { test } from "node:test";
import type { Stream } from "streamable-ts";

/** An item of a test source that throws instead of yielding. */
export class Failure {
  constructor(readonly message: string) {}
}
/** `fail("x")` in a source throws `new Error("x")` at that position. */
export const fail = (message: string) => new Failure(message);

/** How a thrown error shows in collected output. */
export interface Thrown {
  readonly error: string;
}
export const err = (message: string): Thrown => ({ error: message });

/** A source that records what was asked of it, and resumes after it throws. */
export class CountingSource<T> {
  pulls = 0;
  returns = 0;
  readonly #items: readonly (T | Failure)[];
  #index = 0;
  constructor(items: readonly (T | Failure)[]) {
    this.#items = items;
  }
  #next(): IteratorResult<T> {
    if (this.#index >= this.#items.length) return { done: true, value: undefined };
    this.pulls++;
    const item = this.#items[this.#index++]!;
    if (item instanceof Failure) throw new Error(item.message);
    return { done: false, value: item };
  }
  #return(): IteratorResult<T> {
    this.returns++;
    this.#index = Infinity;
    return { done: true, value: undefined };
  }
  /** As a one-shot sync iterable. */
  sync(): Iterable<T> {
    return { [Symbol.iterator]: () => ({ next: () => this.#next(), return: () => this.#return() }) };
  }
  /** As a one-shot async iterable: each answer comes a microtask later. */
  async(): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => this.#next(),
        return: async () => this.#return(),
      }),
    };
  }
}

export interface Mode {
  readonly name: string;
  readonly iteration: "sync" | "async";
  readonly callbacks: "sync" | "async";
  /** A counting source over `items`, sync or async as this mode reads it. */
  source<T>(items: readonly (T | Failure)[]): { readonly counter: CountingSource<T>; readonly iterable: Iterable<T> };
  /** `f` as this mode's callbacks are: unchanged, or returning a promise. */
  fn<F extends (...args: never[]) => unknown>(f: F): F;
  /** Every element and error of `s` (errors as `err(message)`), going on after errors. */
  collect<T>(s: Stream<T>, limit?: number): Promise<(T | Thrown)[]>;
}

function thrown(e: unknown): Thrown {
  return err(e instanceof Error ? e.message : String(e));
}

/** Every element and error (as `err(message)`) of an async iterator, going on after errors; closes it at `limit`. */
export async function drainAsync<T>(it: AsyncIterator<T>, limit = 10_000): Promise<(T | Thrown)[]> {
  const out: (T | Thrown)[] = [];
  while (out.length < limit) {
    try {
      const r = await it.next();
      if (r.done) return out;
      out.push(r.value);
    } catch (e) {
      out.push(thrown(e));
    }
  }
  await it.return?.();
  return out;
}

/** The same for a sync iterator. */
export function drainSync<T>(it: Iterator<T>, limit = 10_000): (T | Thrown)[] {
  const out: (T | Thrown)[] = [];
  while (out.length < limit) {
    try {
      const r = it.next();
      if (r.done) return out;
      out.push(r.value);
    } catch (e) {
      out.push(thrown(e));
    }
  }
  it.return?.();
  return out;
}

async function collect<T>(s: Stream<T>, iteration: "sync" | "async", limit = 10_000): Promise<(T | Thrown)[]> {
  if (iteration === "sync") return drainSync((s as unknown as { iterate(o: object): Iterator<T> }).iterate({ afterError: "resume" }), limit);
  return drainAsync(s.iterateAsync({ afterError: "resume" }), limit);
}

const asyncFn = <F extends (...args: never[]) => unknown>(f: F): F =>
  ((...args: Parameters<F>) => Promise.resolve().then(() => f(...args))) as unknown as F;

/** The four ways every behaviour runs: sync/async iteration crossed with sync/async callbacks. */
export const MODES: readonly Mode[] = [
  { name: "sync iteration, sync callbacks", iteration: "sync", callbacks: "sync" },
  { name: "async iteration over a sync source, sync callbacks", iteration: "async", callbacks: "sync" },
  { name: "async iteration over an async source, async callbacks", iteration: "async", callbacks: "async" },
  { name: "async iteration over a sync source, async callbacks", iteration: "async", callbacks: "async" },
].map((m, i) => ({
  ...m,
  iteration: m.iteration as "sync" | "async",
  callbacks: m.callbacks as "sync" | "async",
  source<T>(items: readonly (T | Failure)[]) {
    const counter = new CountingSource(items);
    return { counter, iterable: (i === 2 ? counter.async() : counter.sync()) as Iterable<T> };
  },
  fn: <F extends (...args: never[]) => unknown>(f: F): F => (m.callbacks === "async" ? asyncFn(f) : f),
  collect: <T>(s: Stream<T>, limit?: number) => collect(s, m.iteration as "sync" | "async", limit),
}));

/** Runs `body` once per mode, as subtests. */
export function forEachMode(title: string, body: (mode: Mode) => Promise<void> | void): void {
  test(title, async (t) => {
    for (const mode of MODES) await t.test(mode.name, () => body(mode));
  });
}

/** The error sync iteration gives for a callback that returns a promise. */
export function assertSyncRejectsPromises(run: () => unknown): void {
  assert.throws(run, (e: unknown) => e instanceof TypeError && /during sync iteration.*for await/.test(e.message));
}
