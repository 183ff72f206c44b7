// After exhaustion, every operation keeps answering done, in sync and async iteration.
import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type Stream } from "streamable-ts";

const pipelines: [string, () => Stream<unknown>, boolean][] = [
  ["map", () => stream([1, 2]).map((x) => x), true],
  ["do", () => stream([1, 2]).do(() => {}), true],
  ["filter", () => stream([1, 2]).filter(Boolean), true],
  ["flatten", () => stream([[1], [2]]).flatten(), true],
  ["flatten concurrent", () => stream([[1], [2]]).flatten({ concurrency: 2 }), true],
  ["group", () => stream([1, 2, 3]).group(2), true],
  ["group by", () => stream([1, 2, 3]).group({ by: (x) => x % 2 }), true],
  ["take", () => stream([1, 2, 3]).take(2), true],
  ["skip", () => stream([1, 2, 3]).skip(1), true],
  ["catch", () => stream([1, 2]).catch({ finallyThrow: true }), true],
  ["observe", () => stream([1, 2]).observe("x", { do: () => {} }), true],
  ["concat", () => stream([1]).concat([2]), true],
  ["map concurrent", () => stream([1, 2]).map(async (x) => x, { concurrency: 2 }), false],
  ["map as completed", () => stream([1, 2]).map(async (x) => x, { concurrency: 2, asCompleted: true }), false],
  ["throttle", () => stream([1, 2]).throttle(5, { per: "1s" }), false],
  ["buffer", () => stream([1, 2]).buffer(2), false],
  ["group within", () => stream([1, 2]).group({ within: "1s" }), false],
  ["observe every", () => stream([1, 2]).observe("x", { every: "1s", do: () => {} }), false],
];

for (const [name, build, sync] of pipelines) {
  test(`${name}: done stays done after exhaustion`, async () => {
    if (sync) {
      const it = (build() as unknown as Iterable<unknown>)[Symbol.iterator]();
      while (!it.next().done);
      for (let i = 0; i < 3; i++) assert.deepEqual(it.next(), { done: true, value: undefined });
    }
    const it = build()[Symbol.asyncIterator]();
    while (!(await it.next()).done);
    for (let i = 0; i < 3; i++) assert.deepEqual(await it.next(), { done: true, value: undefined });
  });
}
