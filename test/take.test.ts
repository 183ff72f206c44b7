import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type Observation, type Stream } from "streamable-ts";
import { CountingSource, err, fail, forEachMode } from "./support/modes.js";

forEachMode("take(n) yields the first n elements, then closes the source without pulling again", async (mode) => {
  const { counter, iterable } = mode.source([1, 2, 3, 4]);
  assert.deepEqual(await mode.collect(stream(iterable).take(2)), [1, 2]);
  assert.equal(counter.pulls, 2);
  assert.equal(counter.returns, 1);
});

forEachMode("take(0) pulls nothing", async (mode) => {
  const { counter, iterable } = mode.source([1, 2]);
  assert.deepEqual(await mode.collect(stream(iterable).take(0)), []);
  assert.equal(counter.pulls, 0);
});

forEachMode("take(n): errors pass through and do not count", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source([1, fail("bad"), 2, 3]).iterable).take(2)), [1, err("bad"), 2]);
});

forEachMode("take(until) stops at the first match, which is consumed and not yielded", async (mode) => {
  const { counter, iterable } = mode.source([1, 2, 3, 4]);
  assert.deepEqual(await mode.collect(stream(iterable).take(mode.fn((x: number) => x > 2))), [1, 2]);
  assert.equal(counter.pulls, 3);
  assert.equal(counter.returns, 1);
});

forEachMode("take(until): an error from the predicate comes out, its element is dropped, taking goes on", async (mode) => {
  const until = mode.fn((x: number) => {
    if (x === 2) throw new Error("cannot tell");
    return x > 3;
  });
  assert.deepEqual(await mode.collect(stream(mode.source([1, 2, 3, 4, 5]).iterable).take(until)), [1, err("cannot tell"), 3]);
});

test("take: a negative or fractional count throws when the pipeline is built", () => {
  assert.throws(() => stream([1]).take(-1), { name: "RangeError", message: "`until` must be an integer >= 0 or Infinity, got -1" });
  assert.throws(() => stream([1]).take(1.5), { name: "RangeError", message: "`until` must be an integer >= 0 or Infinity, got 1.5" });
  assert.throws(() => stream([1]).take("3" as never), /`take` expects a count or a predicate as `until`, got "3"/);
});

test("take ends a pull-function source, which is otherwise infinite", () => {
  let n = 0;
  assert.deepEqual([...stream(() => n++).take(3)], [0, 1, 2]);
  assert.equal(n, 3);
});

test("take(n) under a terminal: upstream pushes the elements that are ready, and nothing past the n-th is pulled", async () => {
  const terminals = { toArray: (s: Stream<number>) => s.toArray(), count: (s: Stream<number>) => s.count(), run: (s: Stream<number>) => s.run() };
  for (const [name, terminal] of Object.entries(terminals)) {
    const counter = new CountingSource([1, 2, 3, 4, 5, 6]);
    const out = await terminal(stream(counter.sync()).map((x) => x * 10).take(3));
    assert.deepEqual(out, { toArray: [10, 20, 30], count: 3, run: undefined }[name], name);
    assert.equal(counter.pulls, 3, `${name}: pulls`);
    assert.equal(counter.returns, 1, `${name}: the source is closed once`);
  }
});

test("take(n) under a terminal, after catch and observe: its stop passes through them, neither caught nor counted", async () => {
  const counter = new CountingSource([1, 2, 3, 4, 5]);
  const seen: Observation[] = [];
  const s = stream(counter.sync())
    .map(String)
    .catch(Error, { finallyThrow: true })
    .observe("rows", { do: (o) => void seen.push(o) })
    .take(2);
  assert.deepEqual(await s.toArray(), ["1", "2"]);
  assert.equal(counter.pulls, 2);
  assert.deepEqual(seen.map((o) => [o.elements, o.errors]), [[1, 0], [2, 0]]);
});

test("take(n) under a terminal, before an observe whose async `do` pauses upstream: the pause does not end the take", async () => {
  const s = stream([1, 2, 3, 4, 5, 6])
    .map((x) => x * 10)
    .take(4)
    .observe("rows", { every: 1, do: async () => {} });
  assert.deepEqual(await s.toArray(), [10, 20, 30, 40]);
});
