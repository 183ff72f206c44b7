import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { assertSyncRejectsPromises, err, fail, forEachMode } from "./support/modes.js";

const odd = (x: number) => x % 2 === 1;
const cases = [
  // keeps the elements for which `where` is truthy
  { source: [1, 2, 3, 4, 5], where: odd, expected: [1, 3, 5] },
  // a throwing `where` puts its error in place and drops the element
  { source: [1, 2, 3], where: (x: number) => { if (x === 2) throw new Error("no 2"); return true; }, expected: [1, err("no 2"), 3] },
  // source errors pass through in place
  { source: [1, fail("bad"), 3], where: odd, expected: [1, err("bad"), 3] },
  // long runs of dropped elements do not grow the stack
  { source: Array.from({ length: 100_000 }, (_, i) => i * 2).concat([7]), where: odd, expected: [7] },
];

for (const [i, c] of cases.entries()) {
  forEachMode(`filter case ${i}`, async (mode) => {
    assert.deepEqual(await mode.collect(stream(mode.source<number>(c.source).iterable).filter(mode.fn(c.where))), c.expected);
  });
}

forEachMode("filter without `where` keeps truthy elements", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source([0, 1, "", "a", null, 2]).iterable).filter()), [1, "a", 2]);
});

test("filter: `where` receives only the element", () => {
  const seen: unknown[][] = [];
  [...stream([1]).filter((...args: unknown[]) => seen.push(args))];
  assert.deepEqual(seen, [[1]]);
});

test("filter: sync iteration rejects a promise from `where`", () => {
  const it = (stream([1]).filter((x) => Promise.resolve(x)) as unknown as Iterable<number>)[Symbol.iterator]();
  assertSyncRejectsPromises(() => it.next());
});

test("filter: a non-function `where` throws when the pipeline is built", () => {
  assert.throws(() => stream([1]).filter("x" as never), { message: '`where` must be a function, got "x"' });
});
