import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { err, fail, forEachMode } from "./support/modes.js";

forEachMode("skip(n) drops the first n elements", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source([1, 2, 3, 4]).iterable).skip(2)), [3, 4]);
});

forEachMode("skip(0) drops nothing; skipping more than there is gives nothing", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source([1, 2]).iterable).skip(0)), [1, 2]);
  assert.deepEqual(await mode.collect(stream(mode.source([1, 2]).iterable).skip(5)), []);
});

forEachMode("skip(n): errors pass through and do not count", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source([fail("bad"), 1, 2, 3]).iterable).skip(2)), [err("bad"), 3]);
});

forEachMode("skip(until) yields from the first match on and stops calling the predicate", async (mode) => {
  let calls = 0;
  const until = mode.fn((x: number) => (calls++, x > 4));
  assert.deepEqual(await mode.collect(stream(mode.source([1, 5, 2, 7]).iterable).skip(until)), [5, 2, 7]);
  assert.equal(calls, 2);
});

forEachMode("skip(until): an error from the predicate comes out, its element is dropped, skipping goes on", async (mode) => {
  const until = mode.fn((x: number) => {
    if (x === 1) throw new Error("cannot tell");
    return x > 2;
  });
  assert.deepEqual(await mode.collect(stream(mode.source([1, 2, 3, 1]).iterable).skip(until)), [err("cannot tell"), 3, 1]);
});

test("skip: a bad count throws when the pipeline is built", () => {
  assert.throws(() => stream([1]).skip(-2), { name: "RangeError", message: "`until` must be an integer >= 0 or Infinity, got -2" });
});
