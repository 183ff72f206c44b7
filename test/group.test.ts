import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { CountingSource, drainAsync, err, fail, forEachMode } from "./support/modes.js";

const parity = (x: number) => x % 2;

const plain = [
  // groups of `upTo`, the last one shorter
  { source: [1, 2, 3, 4, 5], upTo: 2, expected: [[1, 2], [3, 4], [5]] },
  // no `upTo`: one group of everything
  { source: [1, 2, 3], upTo: undefined, expected: [[1, 2, 3]] },
  // an empty source gives no group
  { source: [], upTo: 2, expected: [] },
  // an error flushes the pending group first, then comes out, then grouping goes on afresh
  { source: [1, 2, fail("bad"), 3], upTo: 3, expected: [[1, 2], err("bad"), [3]] },
  // an error with no pending group comes out at once
  { source: [fail("bad"), 1, 2], upTo: 2, expected: [err("bad"), [1, 2]] },
];

for (const [i, c] of plain.entries()) {
  forEachMode(`group case ${i}: upTo ${c.upTo}`, async (mode) => {
    const s = stream(mode.source<number>(c.source).iterable);
    assert.deepEqual(await mode.collect(c.upTo === undefined ? s.group() : s.group(c.upTo)), c.expected);
  });
}

const byKey = [
  // groups by key; a full group comes out at once; the rest oldest first at the end
  { source: [1, 2, 3, 4, 5, 6], upTo: 2, expected: [[1, [1, 3]], [0, [2, 4]], [1, [5]], [0, [6]]] },
  // a key's group, once emitted, starts anew at the end of the creation order
  { source: [1, 3, 2, 5], upTo: 2, expected: [[1, [1, 3]], [0, [2]], [1, [5]]] },
  // an error flushes every pending group, oldest first, one per call, then comes out
  { source: [2, 1, 4, fail("bad"), 3], upTo: 3, expected: [[0, [2, 4]], [1, [1]], err("bad"), [1, [3]]] },
];

for (const [i, c] of byKey.entries()) {
  forEachMode(`group by case ${i}`, async (mode) => {
    const s = stream(mode.source<number>(c.source).iterable).group({ upTo: c.upTo, by: mode.fn(parity) });
    assert.deepEqual(await mode.collect(s), c.expected);
  });
}

forEachMode("group: an error thrown by `by` flushes pending groups, then comes out; its element is lost", async (mode) => {
  const by = mode.fn((x: number) => {
    if (x === 3) throw new Error("no key for 3");
    return x % 2;
  });
  const s = stream(mode.source([1, 2, 3, 5]).iterable).group({ by });
  assert.deepEqual(await mode.collect(s), [[1, [1]], [0, [2]], err("no key for 3"), [1, [5]]]);
});

forEachMode("group: stopping early closes the source once", async (mode) => {
  const { counter, iterable } = mode.source([1, 2, 3, 4, 5]);
  assert.deepEqual(await mode.collect(stream(iterable).group(2), 1), [[1, 2]]);
  assert.equal(counter.pulls, 2);
  assert.equal(counter.returns, 1);
});

test("group: bad arguments throw when the pipeline is built", () => {
  assert.throws(() => stream([1]).group(0), { name: "RangeError", message: "`upTo` must be an integer >= 1 or Infinity, got 0" });
  assert.throws(() => stream([1]).group(2.5), { name: "RangeError", message: "`upTo` must be an integer >= 1 or Infinity, got 2.5" });
  assert.throws(() => stream([1]).group({ by: 1 } as never), { message: "`by` must be a function, got 1" });
  assert.throws(() => stream([1]).group({ size: 2 } as never), /unknown option `size` in `group` options; expected `upTo`, `by`/);
});

test("group(n) after a run of steps: upstream pushes ready elements into the group and stops once it is full", async () => {
  const counter = new CountingSource([1, 2, 3, 4, 5, 6, 7]);
  const it = stream(counter.sync()).map((x) => x * 10).group(3).iterateAsync();
  assert.deepEqual(await it.next(), { done: false, value: [10, 20, 30] });
  assert.equal(counter.pulls, 3, "nothing past the element that filled the group");
  await it.return!();
  assert.equal(counter.returns, 1);
  const failing = (x: number) => {
    if (x === 4) throw new Error("bad 4");
    return x;
  };
  // An error flushes the group pending before it, then comes out, and grouping goes on afresh.
  assert.deepEqual(await drainAsync(stream([1, 2, 3, 4, 5, 6, 7]).map(failing).group(2).iterateAsync({ afterError: "resume" })), [[1, 2], [3], err("bad 4"), [5, 6], [7]]);
  assert.deepEqual(await stream([1, 2, 3, 4, 5]).map(String).group(2).toArray(), [["1", "2"], ["3", "4"], ["5"]]);
});
