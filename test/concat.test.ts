import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { CountingSource, err, fail, forEachMode } from "./support/modes.js";

forEachMode("concat yields this stream's elements, then each source's", async (mode) => {
  const s = stream(mode.source([1, fail("bad")]).iterable).concat([2], new Set([3]));
  assert.deepEqual(await mode.collect(s), [1, err("bad"), 2, 3]);
});

forEachMode("concat opens each source only when its turn comes, and closes the current one on early exit", async (mode) => {
  const second = new CountingSource([2, 3]);
  const third = new CountingSource([4]);
  const s = stream(mode.source([1]).iterable).concat(second.sync(), third.sync());
  assert.deepEqual(await mode.collect(s, 2), [1, 2]);
  assert.equal(second.returns, 1);
  assert.equal(third.pulls, 0);
});

test("concat reads async iterables in async iteration, and is async-only with them", async () => {
  const s = stream([1]).concat(new CountingSource([2]).async());
  assert.deepEqual(await s.toArray(), [1, 2]);
  assert.throws(() => (s as unknown as Iterable<number>)[Symbol.iterator](), /cannot be iterated synchronously: concat\(.*\) of an AsyncIterable/);
});

test("concat: a non-iterable throws when the pipeline is built", () => {
  assert.throws(() => stream([1]).concat(2 as never), { message: "`sources[0]` must be an Iterable, an AsyncIterable or a function, got 2" });
});
