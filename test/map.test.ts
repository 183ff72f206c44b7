import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { assertSyncRejectsPromises, err, fail, forEachMode } from "./support/modes.js";

const double = (x: number) => x * 2;
const inverse = (x: number) => {
  if (x === 0) throw new Error("division by zero");
  return 1 / x;
};

const cases = [
  // maps each element, in order
  { source: [1, 2, 3], into: double, expected: [2, 4, 6] },
  // an empty source gives nothing
  { source: [], into: double, expected: [] },
  // a throwing callback puts its error in place of the element and iteration goes on
  { source: [1, 0, 4], into: inverse, expected: [1, err("division by zero"), 0.25] },
  // a source error passes through in place and the next element follows
  { source: [1, fail("bad row"), 2], into: double, expected: [2, err("bad row"), 4] },
];

for (const [i, c] of cases.entries()) {
  forEachMode(`map case ${i}: ${JSON.stringify(c.expected)}`, async (mode) => {
    const { counter, iterable } = mode.source<number>(c.source);
    assert.deepEqual(await mode.collect(stream(iterable).map(mode.fn(c.into))), c.expected);
    assert.equal(counter.returns, 0, "a source read to its end is not closed again");
  });
}

forEachMode("map hands `{ signal }` as the second argument, aborted when the iteration ends early", async (mode) => {
  const signals: AbortSignal[] = [];
  const s = stream(mode.source([1, 2, 3]).iterable).map(mode.fn((x: number, { signal }) => (signals.push(signal), x)));
  assert.deepEqual(await mode.collect(s, 1), [1]);
  assert.equal(signals.length, 1);
  assert.equal(signals[0]!.aborted, true);
});

forEachMode("map runs lazily: nothing is pulled before iteration, one pull per element", async (mode) => {
  const { counter, iterable } = mode.source([1, 2, 3]);
  const s = stream(iterable).map(mode.fn(double));
  assert.equal(counter.pulls, 0);
  assert.deepEqual(await mode.collect(s, 2), [2, 4]);
  assert.equal(counter.pulls, 2);
  assert.equal(counter.returns, 1, "stopping early closes the source once");
});

test("map: sync iteration rejects a callback that returns a promise, naming the operation", () => {
  const it = stream([1, 2]).map((x) => Promise.resolve(x) as unknown as number).iterate({ afterError: "resume" });
  assertSyncRejectsPromises(() => it.next());
  assert.throws(() => it.next(), /`map\(anonymous\)` returned a Promise|returned a Promise/);
});

test("map: an async function makes the stream async-only at once", () => {
  const s = stream([1]).map(async (x) => x) as unknown as Iterable<number>;
  assert.throws(() => s[Symbol.iterator](), /cannot be iterated synchronously: map\(.*\) with an async function; iterate with `for await`/);
});

test("map: bad arguments throw when the pipeline is built", () => {
  assert.throws(() => stream([1]).map(3 as never), { name: "TypeError", message: "`into` must be a function, got 3" });
  assert.throws(() => stream([1]).map(double, { concurency: 2 } as never), /unknown option `concurency` in `map` options/);
});

test("map: re-iterating re-opens the source, each iterator with its own state", async () => {
  const s = stream([1, 2]).map(double);
  assert.deepEqual([...s], [2, 4]);
  assert.deepEqual(await s.toArray(), [2, 4]);
});

test("map: iterations of one pipeline each hand their own signal, though they share composed code", () => {
  const seen: AbortSignal[] = [];
  const s = stream([1, 2, 3]).map((x, { signal }) => (seen.push(signal), x));
  const a = s[Symbol.iterator]();
  const b = s[Symbol.iterator]();
  a.next();
  b.next();
  a.return!();
  assert.notEqual(seen[0], seen[1]);
  assert.equal(seen[0]!.aborted, true);
  assert.equal(seen[1]!.aborted, false);
  b.next();
  assert.equal(seen[2], seen[1]);
});

test("map: when the run's signal aborts, the calls in flight hear its reason, not a generic one", async () => {
  for (const concurrency of [1, 3]) {
    const stop = new AbortController();
    const heard: unknown[] = [];
    const run = stream([1, 2])
      .map((x, { signal }) => new Promise<number>((_resolve, reject) => signal.addEventListener("abort", () => (heard.push(signal.reason), reject(signal.reason)))), { concurrency })
      .run({ signal: stop.signal });
    await new Promise((r) => setImmediate(r));
    const reason = new Error("the worker is stopping");
    stop.abort(reason);
    await assert.rejects(run, reason);
    await new Promise((r) => setImmediate(r));
    assert.ok(heard.length > 0 && heard.every((r) => r === reason), `concurrency ${concurrency}: every call heard the run's reason`);
  }
});
