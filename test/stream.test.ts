import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type Stream } from "streamable-ts";
import { settle } from "./support/clock.js";
import { Deferred } from "./support/deferred.js";
import { CountingSource, drainAsync, err, fail, type Failure } from "./support/modes.js";

test("stream: building touches nothing; each iteration re-opens the source", async () => {
  let opened = 0;
  const source = { *[Symbol.iterator]() { opened++; yield 1; yield 2; } };
  const s = stream(source).map((x) => x * 10);
  assert.equal(opened, 0);
  assert.deepEqual([...s], [10, 20]);
  assert.deepEqual(await s.toArray(), [10, 20]);
  assert.equal(opened, 2);
});

test("stream: two iterators of one stream advance independently, each with its own state", () => {
  const s = stream([1, 2, 3, 4]).take(3);
  const a = s[Symbol.iterator]();
  const b = s[Symbol.iterator]();
  assert.equal(a.next().value, 1);
  assert.equal(a.next().value, 2);
  assert.equal(b.next().value, 1);
  assert.deepEqual([...a], [3]);
  assert.deepEqual([...b], [2, 3]);
});

test("stream: a one-shot source continues where it stopped and is then empty", () => {
  const s = stream([1, 2, 3].values());
  assert.deepEqual([...s.take(1)], [1]);
  assert.deepEqual([...s], [2, 3]);
  assert.deepEqual([...s], []);
});

test("stream: a pull function is called once per element", async () => {
  let calls = 0;
  const pull = () => ++calls;
  assert.deepEqual([...stream(pull).take(3)], [1, 2, 3]);
  assert.deepEqual(await stream(async () => ++calls).take(2).toArray(), [4, 5]);
  assert.equal(calls, 5);
});

test("stream: an async pull function makes the stream async-only", () => {
  const s = stream(async () => 1) as unknown as Iterable<number>;
  assert.throws(() => s[Symbol.iterator](), /cannot be iterated synchronously: the source is an async function/);
});

test("stream: an invalid source throws when the pipeline is built", () => {
  assert.throws(() => stream(1 as never), { name: "TypeError", message: "`source` must be an Iterable, an AsyncIterable or a function, got 1" });
  assert.throws(() => stream(null as never), /got null/);
});

test("stream: `break` out of for...of closes the source once", () => {
  const source = new CountingSource([1, 2, 3]);
  for (const x of stream(source.sync()).map((x) => x)) if (x === 2) break;
  assert.equal(source.returns, 1);
  assert.equal(source.pulls, 2);
});

test("stream: `break` out of for await closes the source once", async () => {
  const source = new CountingSource([1, 2, 3]);
  for await (const x of stream(source.async()).map((x) => x)) if (x === 2) break;
  assert.equal(source.returns, 1);
});

test("stream: an error thrown in the loop body closes the source once", async () => {
  const source = new CountingSource([1, 2, 3]);
  await assert.rejects(async () => {
    for await (const _ of stream(source.async())) throw new Error("body failed");
  }, /body failed/);
  assert.equal(source.returns, 1);
});

test("stream: after an error, next() goes on with the next element; after the end it stays done", () => {
  const it = stream([1, 0, 2]).map((x) => {
    if (x === 0) throw new Error("zero");
    return x;
  }).iterate({ afterError: "resume" });
  assert.deepEqual(it.next(), { done: false, value: 1 });
  assert.throws(() => it.next(), /zero/);
  assert.deepEqual(it.next(), { done: false, value: 2 });
  assert.deepEqual(it.next(), { done: true, value: undefined });
  assert.deepEqual(it.next(), { done: true, value: undefined });
});

test("stream: async iteration answers calls made before the previous one settled, in order", async () => {
  const it = stream(new CountingSource([1, 2, 3]).async()).map(async (x) => x).iterateAsync({ afterError: "resume" });
  const results = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
  assert.deepEqual(results.map((r) => r.value), [1, 2, 3, undefined]);
});

test("stream: a stream is a source for another stream", async () => {
  const inner = stream([1, 2]).map((x) => x + 1);
  assert.deepEqual([...stream(inner).map((x) => x * 2)], [4, 6]);
  assert.deepEqual(await stream(inner).toArray(), [2, 3]);
});

test("stream: for await over an async source: long runs of dropped elements, async steps, errors, queued calls", async () => {
  const items = [...Array.from({ length: 10_000 }, (_, i) => i), fail("late"), 10_000, 10_001];
  const s = stream(new CountingSource(items).async())
    .filter((x) => x % 2_500 === 0 || x > 9_999)
    .map(async (x) => x + 1)
    .map((x) => x * 2);
  assert.deepEqual(await drainAsync(s.iterateAsync({ afterError: "resume" })), [2, 5002, 10002, 15002, err("late"), 20002, 20004]);
  const queued = stream(new CountingSource([1, 2, 3, 4]).async()).filter((x) => x !== 2).iterateAsync({ afterError: "resume" });
  const answers = await Promise.all([queued.next(), queued.next(), queued.next(), queued.next()]);
  assert.deepEqual(answers.map((r) => r.value), [1, 3, 4, undefined]);
});

test("stream: for await over an async source: calls after dropped elements and calls with none interleave, every element in order, errors in either", async () => {
  // Each call pulls in one loop until an element or an error comes out; answers come at once or a microtask later.
  const items = [1, 2, 0, 3, 0, 0, 4, 5, fail("source"), 6, -1, 0, -1, 7, 0, 8, -1, 9, 0, 0, 0];
  const s = stream(new CountingSource(items).async())
    .filter((x) => {
      if (x < 0) throw new Error("where");
      return x !== 0;
    })
    .map((x) => (x % 3 === 0 ? Promise.resolve(x * 10) : x * 10));
  assert.deepEqual(await drainAsync(s.iterateAsync({ afterError: "resume" })), [10, 20, 30, 40, 50, err("source"), 60, err("where"), err("where"), 70, 80, err("where"), 90]);
});

test("stream: for await over an async source: a call pulls at once when none is pending, also after an error and after dropped elements", async () => {
  const source = new CountingSource([1, fail("source"), 2, 3]);
  const it = stream(source.async()).filter((x) => x !== 2).iterateAsync({ afterError: "resume" });
  let answer = it.next();
  assert.equal(source.pulls, 1);
  assert.deepEqual(await answer, { done: false, value: 1 });
  answer = it.next();
  assert.equal(source.pulls, 2);
  await assert.rejects(answer, /source/);
  answer = it.next();
  assert.equal(source.pulls, 3);
  assert.deepEqual(await answer, { done: false, value: 3 });
  assert.equal(source.pulls, 4);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

test("stream: for await over an async source: calls made before the previous one settled wait their turn, behind an error too", async () => {
  const cases: [(number | Failure)[], unknown[]][] = [
    [[fail("first"), 1, 2, 3], ["first", 1, 3, undefined]], // the call in the loop fails, three wait behind it
    [[1, fail("second"), 2, 3], [1, "second", 3, undefined]], // a waiting call fails
  ];
  for (const [items, expected] of cases) {
    const it = stream(new CountingSource(items).async()).filter((x) => x !== 2).iterateAsync({ afterError: "resume" });
    const answers = await Promise.allSettled([it.next(), it.next(), it.next(), it.next()]);
    assert.deepEqual(answers.map((a) => (a.status === "fulfilled" ? a.value.value : (a.reason as Error).message)), expected);
  }
});

test("stream: for await: a waiting call whose pull throws at once rejects in its turn, and the calls after it go on", async () => {
  // A sync source read under `for await`, its steps made pending by an async callback: calls wait their turn.
  const it = stream(new CountingSource([1, fail("sync"), 2]).sync()).map(async (x) => x * 10).iterateAsync({ afterError: "resume" });
  const answers = await Promise.allSettled([it.next(), it.next(), it.next(), it.next()]);
  assert.deepEqual(answers.map((a) => (a.status === "fulfilled" ? a.value.value : (a.reason as Error).message)), [10, "sync", 20, undefined]);
});

test("stream: for await over an array: an async filter drops elements, in the middle and at the end", async () => {
  const s = stream([1, 2, 3, 4, 5, 6]).filter(async (x) => x === 2 || x === 5);
  assert.deepEqual(await drainAsync(s.iterateAsync({ afterError: "resume" })), [2, 5]);
});

test("stream: for await over an async source whose next() answers with thenables that are not native promises", async () => {
  let i = 0;
  const thenable = (result: IteratorResult<number>) => ({ then: (resolve: (r: IteratorResult<number>) => void) => resolve(result) });
  const source = {
    [Symbol.asyncIterator]: () => ({ next: () => thenable(i < 4 ? { done: false, value: i++ } : { done: true, value: undefined }) }),
  } as unknown as AsyncIterable<number>;
  const s = stream(source).filter((x) => x !== 2).map((x) => x * 10);
  assert.deepEqual(await drainAsync(s.iterateAsync({ afterError: "resume" })), [0, 10, 30]);
});

test("stream: for await over an async source whose next() throws instead of rejecting: that call rejects, the next goes on", async () => {
  let calls = 0;
  const source = {
    [Symbol.asyncIterator]: () => ({
      next() {
        calls++;
        if (calls === 2) throw new Error("thrown");
        return Promise.resolve(calls > 3 ? { done: true as const, value: undefined } : { done: false as const, value: calls });
      },
    }),
  };
  const s = stream(source as AsyncIterable<number>).map((x) => x * 10);
  assert.deepEqual(await drainAsync(s.iterateAsync({ afterError: "resume" })), [10, err("thrown"), 30]);
});

test("stream: for await over an async source: once it ended, calls answer done without asking the source again", async () => {
  let asked = 0;
  const source = { [Symbol.asyncIterator]: () => ({ next: async () => (asked++, { done: true as const, value: undefined }) }) };
  const it = stream(source).map((x) => x).iterateAsync({ afterError: "resume" });
  for (let i = 0; i < 3; i++) assert.deepEqual(await it.next(), { done: true, value: undefined });
  assert.equal(asked, 1);
});

test("stream: for await over an async source: return() while a call waits on the source; what the source brings after close goes to no step, and the call ends", async () => {
  const answers: ((value: number) => void)[] = [];
  let returned = 0;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<number>>((resolve) => answers.push((value) => resolve({ done: false, value }))),
      return: async () => (returned++, { done: true as const, value: undefined }),
    }),
  };
  const filtered: number[] = [];
  for (const [value, expected] of [
    [1, { done: true, value: undefined }],
    [2, { done: true, value: undefined }],
  ] as const) {
    answers.length = 0;
    const it = stream(source).filter((x) => (filtered.push(x), x % 2 === 1)).iterateAsync({ afterError: "resume" });
    const pending = it.next();
    await it.return!();
    answers[0]!(value);
    assert.deepEqual(await pending, expected);
    assert.equal(answers.length, 1); // not asked again after return()
  }
  assert.deepEqual(filtered, [], "no callback runs after close");
  assert.equal(returned, 2);
});

test("stream: `using` and `await using` close the iteration when the scope ends", async () => {
  const syncSource = new CountingSource([1, 2, 3]);
  {
    using it = stream(syncSource.sync()).iterate();
    assert.equal(it.next().value, 1);
  }
  assert.equal(syncSource.returns, 1);
  const asyncSource = new CountingSource([1, 2, 3]);
  {
    await using it = stream(asyncSource.async()).map((x) => x * 2).iterateAsync();
    assert.equal((await it.next()).value, 2);
  }
  assert.equal(asyncSource.returns, 1);
});

// A loop left by an error closes the stream first, as a generator does (JavaScript calls no return() when next() throws).
const failOnTwo = (x: number) => {
  if (x === 2) throw new Error("bad row");
  return x;
};
const loopPipelines: [string, (s: Stream<number>) => Stream<unknown>][] = [
  ["map", (s) => s.map(failOnTwo)],
  ["map, async callback", (s) => s.map(async (x) => failOnTwo(x))],
  ["map, concurrency 3", (s) => s.map(async (x) => failOnTwo(x), { concurrency: 3 })],
  ["group within", (s) => s.map(failOnTwo).group({ upTo: 1, within: "1h" })],
  ["observe every 1h", (s) => s.observe("rows", { every: "1h", do: () => {} }).map(failOnTwo)],
  ["buffer", (s) => s.map(failOnTwo).buffer(2)],
  ["flatten", (s) => s.map((x) => [failOnTwo(x)]).flatten({ concurrency: 2 })],
  ["catch of another class", (s) => s.map(failOnTwo).catch(TypeError)],
];

for (const [name, build] of loopPipelines) {
  test(`for await left by an error closes the source once before the error reaches the loop: ${name}`, async () => {
    let closed = 0;
    let closedWhenCaught = -1;
    async function* rows() {
      try {
        yield* [1, 2, 3];
      } finally {
        closed++;
      }
    }
    const seen: unknown[] = [];
    try {
      for await (const x of build(stream(rows()))) seen.push(x);
    } catch (e) {
      closedWhenCaught = closed;
      assert.equal((e as Error).message, "bad row");
    }
    assert.equal(closedWhenCaught, 1, "the source's finally ran before the loop saw the error");
    assert.equal(closed, 1);
    assert.ok(seen.length <= 1, `nothing after the error: ${JSON.stringify(seen)}`);
  });
}

test("for ... of left by an error closes the source once before the error reaches the loop", () => {
  const source = new CountingSource([1, 2, 3]);
  const seen: number[] = [];
  assert.throws(() => {
    for (const x of stream(source.sync()).map(failOnTwo)) seen.push(x);
  }, /bad row/);
  assert.deepEqual(seen, [1]);
  assert.equal(source.returns, 1);
  assert.equal(source.pulls, 2, "nothing pulled after the error");
});

test("iterate() and iterateAsync() close on an error by default; then next() is done", async () => {
  const sync = new CountingSource([1, 2, 3]);
  const it = stream(sync.sync()).map(failOnTwo).iterate();
  assert.deepEqual(it.next(), { done: false, value: 1 });
  assert.throws(() => it.next(), /bad row/);
  assert.equal(sync.returns, 1);
  assert.deepEqual(it.next(), { done: true, value: undefined });
  const async = new CountingSource([1, 2, 3]);
  const ait = stream(async.async()).map(failOnTwo).iterateAsync();
  assert.deepEqual(await ait.next(), { done: false, value: 1 });
  await assert.rejects(ait.next(), /bad row/);
  assert.equal(async.returns, 1);
  assert.deepEqual(await ait.next(), { done: true, value: undefined });
  assert.equal(async.returns, 1, "closed once");
});

test("a loop left by an error waits for the calls in flight before the error reaches it", async () => {
  const calls = [new Deferred<number>(), new Deferred<number>()];
  let settledBeforeCaught = false;
  const s = stream([0, 1, 2]).map((x) => (x === 0 ? Promise.reject(new Error("first")) : calls[x - 1]!.promise), { concurrency: 3, asCompleted: true });
  const loop = (async () => {
    try {
      for await (const _ of s);
    } catch (e) {
      settledBeforeCaught = calls.every((c) => c.settled);
      throw e;
    }
  })();
  await settle();
  assert.equal(settledBeforeCaught, false);
  calls[0]!.resolve(1);
  await settle();
  calls[1]!.resolve(2);
  await assert.rejects(loop, /first/);
  assert.ok(settledBeforeCaught, "the error came out after the calls in flight settled");
});

test("a stream read by another stream passes its errors on one by one, and is closed once by the outer one", async () => {
  const inners: [string, (inner: Stream<number>) => Stream<unknown>, unknown[]][] = [
    ["stream(inner)", (inner) => stream(inner), [1, 3]],
    ["flatten", (inner) => stream([inner]).flatten(), [1, 3]],
    ["concat", (inner) => stream([0]).concat(inner), [0, 1, 3]],
  ];
  for (const [how, outer, expected] of inners) {
    const source = new CountingSource([1, 2, 3]);
    assert.deepEqual(await outer(stream(source.async()).map(failOnTwo)).catch().toArray(), expected, how);
    assert.equal(source.pulls, 3, `${how}: read to the end`);
    assert.ok(source.returns <= 1, `${how}: closed at most once`);
  }
  const sync = new CountingSource([1, 2, 3]);
  assert.deepEqual([...stream(stream(sync.sync()).map(failOnTwo)).catch()], [1, 3]);
});

test("`afterError` is checked when the iterator is made", () => {
  assert.throws(() => stream([1]).iterateAsync({ afterError: "skip" } as never), { name: "TypeError", message: '`afterError` must be "close" or "resume", got "skip"' });
  assert.throws(() => stream([1]).iterate({ sginal: 1 } as never), /unknown option `sginal` in `iterate` options; expected `signal`, `clock`, `afterError`/);
});
