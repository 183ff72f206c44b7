/**
 * Over an async source, `map` (a run of steps) hands its pending pull on as a Resume, and
 * `observe`, `take`, `catch` and `group` pass it on with their own handling after it, so the
 * runner awaits the source's promise and nothing else per element. These check that what the
 * stages do still happens on that path: an error the source rejects with, or the steps throw,
 * is observed, caught, counted in its place or carried.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type Observation } from "streamable-ts";
import { CountingSource, drainAsync, err, fail } from "./support/modes.js";

/** 1, a rejection, 3, 4 (the map throws on 4), 5: an async source that goes on after it rejects. */
const source = () => new CountingSource<number>([1, fail("source"), 3, 4, 5]);
const tenfold = (x: number) => {
  if (x === 4) throw new Error("map");
  return x * 10;
};

test("resume path: observe counts the elements and both errors", async () => {
  const seen: Observation[] = [];
  const counter = source();
  const out = await drainAsync(
    stream(counter.async())
      .map(tenfold)
      .observe("xs", { do: (o) => void seen.push(o) })
      .iterateAsync({ afterError: "resume" }),
  );
  assert.deepEqual(out, [10, err("source"), 30, err("map"), 50], "elements and errors in their places");
  const last = seen.at(-1)!;
  assert.equal(last.elements, 3, "three elements observed");
  assert.equal(last.errors, 2, "two errors observed: the source's rejection and the map's throw");
  assert.equal(counter.returns, 0, "a source that ended is not closed again");
});

test("resume path: catch takes the source's rejection and the map's throw, and goes on", async () => {
  const caught: string[] = [];
  const out = await stream(source().async())
    .map(tenfold)
    .catch(Error, { do: (e) => void caught.push(e.message) })
    .toArray();
  assert.deepEqual(out, [10, 30, 50], "the elements around the errors");
  assert.deepEqual(caught, ["source", "map"], "both errors caught, in order");
});

test("resume path: catch with `replace` puts its value in the error's place; `finallyThrow` throws at the end", async () => {
  const out = await stream(source().async())
    .map(tenfold)
    .catch(Error, { replace: () => -1 })
    .toArray();
  assert.deepEqual(out, [10, -1, 30, -1, 50], "each error replaced in its place");
  await assert.rejects(
    stream(source().async()).map(tenfold).catch(Error, { finallyThrow: true }).toArray(),
    (e: unknown) => e instanceof Error && e.message === "source",
    "the first caught error, thrown once the stream is done",
  );
});

test("resume path: catch of another class lets the error through to the caller", async () => {
  class Other extends Error {}
  await assert.rejects(stream(source().async()).map(tenfold).catch(Other).toArray(), /source/, "not caught: the source's rejection reaches toArray");
});

test("resume path: take(n) counts elements (not errors), lets errors through, and closes the source after the nth", async () => {
  const counter = source();
  const out = await drainAsync(stream(counter.async()).map(tenfold).take(3).iterateAsync({ afterError: "resume" }));
  assert.deepEqual(out, [10, err("source"), 30, err("map"), 50], "three elements, the errors between them passed on");
  const shorter = source();
  const two = await drainAsync(stream(shorter.async()).map(tenfold).take(2).iterateAsync({ afterError: "resume" }));
  assert.deepEqual(two, [10, err("source"), 30], "two elements");
  assert.equal(shorter.returns, 1, "the source is closed once, after the second element");
});

test("resume path: group carries the errors out in turn and groups the rest", async () => {
  const out = await drainAsync(stream(source().async()).map(tenfold).group(2).iterateAsync({ afterError: "resume" }));
  // SEMANTICS: on an upstream error, the pending group comes out first, then the error.
  assert.deepEqual(out, [[10], err("source"), [30], err("map"), [50]], "each error after the group pending before it");
  const caught = await stream(source().async()).map(tenfold).observe("xs", { do: () => {} }).group(2).catch().toArray();
  assert.deepEqual(caught, [[10], [30], [50]], "observe, group and catch in a row, as in the reference job");
});

test("resume path: count() and run() over observe + catch + take, each error observed once and caught once", async () => {
  const seen: Observation[] = [];
  const caught: string[] = [];
  const pipeline = () =>
    stream(source().async())
      .map(tenfold)
      .observe("xs", { do: (o) => void seen.push(o) })
      .catch(Error, { do: (e) => void caught.push(e.message) })
      .take(10);
  assert.equal(await pipeline().count(), 3, "three elements counted");
  assert.equal(seen.at(-1)!.errors, 2, "observe saw each error once, before catch");
  assert.deepEqual(caught, ["source", "map"], "catch took each once");
  assert.equal(await pipeline().run(), undefined, "run() settles once done");
});
