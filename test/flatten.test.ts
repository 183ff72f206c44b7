import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type SyncStream } from "streamable-ts";
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
  const it = (s as unknown as SyncStream<number>).iterate({ afterError: "resume" });
  assert.throws(() => it.next(), /`flatten` got an AsyncIterable during sync iteration; iterate with `for await`/);
  assert.deepEqual(it.next(), { done: false, value: 2 });
});

test("flatten: unknown options throw when the pipeline is built", () => {
  assert.throws(() => stream([[1]]).flatten({ concurrent: 2 } as never), /unknown option `concurrent` in `flatten` options; expected `concurrency`/);
});

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

forEachMode("flatten({ concurrency }) reads inner iterables round-robin, refilling a slot as soon as one ends", async (mode) => {
  const letters = stream(mode.source(["hel", "lo", "!"]).iterable).flatten({ concurrency: 2 });
  assert.deepEqual((await mode.collect(letters)).join(" "), "h l e o l !");
  const ranges = stream(mode.source([range(0, 4), range(4, 5), range(5, 8), range(8, 10)]).iterable).flatten({ concurrency: 2 });
  assert.deepEqual(await mode.collect(ranges), [0, 4, 1, 2, 5, 3, 6, 7, 8, 9]);
});

forEachMode("flatten({ concurrency }): inner errors resume that inner; upstream errors and non-iterables come out in turn", async (mode) => {
  const inner = new CountingSource([1, fail("inner"), 2]);
  const s = stream(mode.source<unknown>([inner.sync(), fail("outer"), 3, [4, 5]]).iterable as Iterable<Iterable<number>>).flatten({ concurrency: 2 });
  assert.deepEqual(await mode.collect(s), [1, err("outer"), err("inner"), err("`flatten` expects iterables, got 3"), 2, 4, 5]);
});

forEachMode("flatten({ concurrency }): stopping early closes every open inner iterator and the source once", async (mode) => {
  const a = new CountingSource([1, 2, 3]);
  const b = new CountingSource([4, 5, 6]);
  const { counter, iterable } = mode.source<Iterable<number>>([a.sync(), b.sync(), [7]]);
  assert.deepEqual(await mode.collect(stream(iterable).flatten({ concurrency: 2 }), 2), [1, 4]);
  assert.equal(a.returns, 1);
  assert.equal(b.returns, 1);
  assert.equal(counter.returns, 1);
});

test("flatten({ concurrency }) interleaves async inner iterables", async () => {
  const s = stream([new CountingSource([1, 2]).async(), new CountingSource([3, 4]).async()]).flatten({ concurrency: 2 });
  assert.deepEqual(await s.toArray(), [1, 3, 2, 4]);
  assert.equal(s.explain().split("\n")[1], "  .flatten({ concurrency: 2 })");
});

test("flatten: a bad concurrency throws when the pipeline is built", () => {
  assert.throws(() => stream([[1]]).flatten({ concurrency: 0 }), { name: "RangeError", message: "`concurrency` must be an integer >= 1, got 0" });
});
