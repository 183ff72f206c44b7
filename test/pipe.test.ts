import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type Stream } from "streamable-ts";
import { forEachMode } from "./support/modes.js";

test("pipe returns fn(stream, ...args)", async () => {
  const scale = (s: Stream<number>, by: number) => s.map((x) => x * by);
  assert.deepEqual(await stream([1, 2]).pipe(scale, 3).toArray(), [3, 6]);
  assert.throws(() => stream([1]).pipe(2 as never), { message: "`fn` must be a function, got 2" });
});

forEachMode("pipe: a custom step reads as part of the chain in every mode", async (mode) => {
  const evens = (s: Stream<number>) => s.filter(mode.fn((x: number) => x % 2 === 0));
  assert.deepEqual(await mode.collect(stream(mode.source([1, 2, 3, 4]).iterable).pipe(evens)), [2, 4]);
});
