import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { settle } from "./support/clock.js";
import { CountingSource, err, fail, forEachMode } from "./support/modes.js";

forEachMode("buffer yields every element and error in order (async iteration)", async (mode) => {
  if (mode.iteration === "sync") return; // async-only: covered by its own test below
  const s = stream(mode.source([1, fail("bad"), 2, 3]).iterable).map(mode.fn((x: number) => x * 2)).buffer(2);
  assert.deepEqual(await mode.collect(s), [2, err("bad"), 4, 6]);
});

test("buffer pulls ahead in the background, up to `upTo` waiting elements", async () => {
  const source = new CountingSource([...Array(20).keys()]);
  const it = stream(source.async()).buffer(5).iterateAsync({ afterError: "resume" });
  assert.equal(source.pulls, 0, "nothing before the first call");
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  await settle();
  assert.equal(source.pulls, 6, "the element taken, plus five waiting");
  await it.next();
  await it.next();
  await settle();
  assert.equal(source.pulls, 8);
});

test("buffer decouples a slow consumer from the producer: the producer runs while the consumer works", async () => {
  const source = new CountingSource([1, 2, 3]);
  const it = stream(source.async()).buffer(3).iterateAsync({ afterError: "resume" });
  await it.next();
  await settle();
  assert.equal(source.pulls, 3, "the rest was pulled while the consumer held the first");
  assert.deepEqual(await it.next(), { done: false, value: 2 });
  assert.deepEqual(await it.next(), { done: false, value: 3 });
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

test("buffer: leaving early stops the worker and closes the source once", async () => {
  const source = new CountingSource([...Array(10).keys()]);
  const it = stream(source.async()).buffer(2).iterateAsync({ afterError: "resume" });
  await it.next();
  await it.return!();
  await settle();
  const pulls = source.pulls;
  await settle();
  assert.equal(source.pulls, pulls, "no pull after close");
  assert.equal(source.returns, 1);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

test("buffer runs only in async iteration; a bad size throws when the pipeline is built", () => {
  assert.throws(() => [...(stream([1]).buffer(1) as unknown as Iterable<number>)], /buffer\(1\) runs only in async iteration/);
  assert.throws(() => stream([1]).buffer(0), { name: "RangeError", message: "`upTo` must be an integer >= 1, got 0" });
});
