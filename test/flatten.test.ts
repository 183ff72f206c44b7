import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { CountingSource, err, fail, forEachMode } from "./support/modes.js";

forEachMode("flatten yields each inner iterable's elements in order", async (mode) => {
  const s = stream(mode.source<Iterable<number>>([[1, 2], [], new Set([3]), [4]]).iterable).flatten();
  assert.deepEqual(await mode.collect(s), [1, 2, 3, 4]);
});

forEachMode("flatten splits strings into characters", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source(["ab", "c"]).iterable).flatten()), ["a", "b", "c"]);
});

forEachMode("flatten: a non-iterable element becomes a TypeError in its place, then flattening goes on", async (mode) => {
  const s = stream(mode.source([[1], 2, [3]]).iterable as Iterable<Iterable<number>>).flatten();
  assert.deepEqual(await mode.collect(s), [1, err("`flatten` expects iterables, got 2"), 3]);
});

forEachMode("flatten resumes the same inner iterator after its error; source errors pass", async (mode) => {
  const inner = new CountingSource([1, fail("inner"), 2]);
  const s = stream(mode.source<Iterable<number>>([inner.sync(), fail("outer"), [3]]).iterable).flatten();
  assert.deepEqual(await mode.collect(s), [1, err("inner"), 2, err("outer"), 3]);
});

forEachMode("flatten: stopping early closes the inner iterator and the source once", async (mode) => {
  const inner = new CountingSource([1, 2, 3]);
  const { counter, iterable } = mode.source<Iterable<number>>([inner.sync(), [4]]);
  assert.deepEqual(await mode.collect(stream(iterable).flatten(), 1), [1]);
  assert.equal(inner.returns, 1);
  assert.equal(counter.returns, 1);
});

test("flatten: async inner iterables are read in async iteration", async () => {
  const inner = new CountingSource([1, 2]).async();
  assert.deepEqual(await stream([inner, [3]]).flatten().toArray(), [1, 2, 3]);
});

test("flatten: an async inner iterable in sync iteration is a clear TypeError, then flattening goes on", () => {
  const s = stream<Iterable<number> | AsyncIterable<number>>([new CountingSource([1]).async(), [2]]).flatten();
  const it = (s as unknown as Iterable<number>)[Symbol.iterator]();
  assert.throws(() => it.next(), /`flatten` got an AsyncIterable during sync iteration; iterate with `for await`/);
  assert.deepEqual(it.next(), { done: false, value: 2 });
});

test("flatten: unknown options throw when the pipeline is built", () => {
  assert.throws(() => stream([[1]]).flatten({ concurrent: 2 } as never), /unknown option `concurrent` in `flatten` options/);
});
