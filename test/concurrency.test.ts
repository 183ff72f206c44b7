// map and do with `concurrency`: the in-flight bound, ordering, error positions, pull-ahead, cancellation.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { stream } from "streamable-ts";
import { ManualClock, settle } from "./support/clock.js";
import { Deferred } from "./support/deferred.js";
import { CountingSource, drainAsync, err, fail, forEachMode } from "./support/modes.js";

/** Calls that each return a promise the test settles by hand, counting how many are in flight. */
function handSettled() {
  const calls = new Map<number, Deferred<number>>();
  let inFlight = 0;
  let maxInFlight = 0;
  const fn = (x: number) => {
    const d = new Deferred<number>();
    calls.set(x, d);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    return d.promise.finally(() => inFlight--);
  };
  return {
    fn,
    call: (x: number) => calls.get(x)!,
    started: () => [...calls.keys()],
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

test("ordered: at most `concurrency` calls run, concurrency + 1 are pulled, results in upstream order", async () => {
  const source = new CountingSource([0, 1, 2, 3, 4]);
  const calls = handSettled();
  const it = stream(source.sync()).map(calls.fn, { concurrency: 2 }).iterateAsync({ afterError: "resume" });
  const first = it.next();
  await settle();
  assert.deepEqual(calls.started(), [0, 1], "two calls run");
  assert.equal(source.pulls, 3, "one more element is pulled, waiting for a slot");
  calls.call(1).resolve(10); // a later result finishes first...
  await settle();
  assert.deepEqual(calls.started(), [0, 1, 2], "...its slot goes to the waiting element at once");
  calls.call(0).resolve(0);
  assert.deepEqual(await first, { done: false, value: 0 }, "...but the head comes out first");
  assert.deepEqual(await it.next(), { done: false, value: 10 });
  for (const x of [2, 3, 4]) {
    const next = it.next();
    await settle();
    calls.call(x).resolve(x * 10);
    assert.deepEqual(await next, { done: false, value: x * 10 });
  }
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  assert.equal(calls.maxInFlight, 2);
});

test("as completed: results in completion order", async () => {
  const calls = handSettled();
  const it = stream([0, 1, 2]).map(calls.fn, { concurrency: 3, asCompleted: true }).iterateAsync({ afterError: "resume" });
  const first = it.next();
  await settle();
  calls.call(2).resolve(20);
  assert.deepEqual(await first, { done: false, value: 20 });
  calls.call(0).resolve(0);
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  calls.call(1).resolve(10);
  assert.deepEqual(await it.next(), { done: false, value: 10 });
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

test("ordered: a failing call comes out in its place; an upstream error keeps its place", async () => {
  const s = stream(new CountingSource([1, 2, fail("upstream"), 3]).sync()).map(
    async (x: number) => {
      if (x === 2) throw new Error("call failed");
      return x;
    },
    { concurrency: 3 },
  );
  const out = await drainAsync(s.iterateAsync({ afterError: "resume" }));
  assert.deepEqual(out, [1, err("call failed"), err("upstream"), 3]);
});

test("as completed: an upstream error comes out at once, ahead of pending calls", async () => {
  const calls = handSettled();
  const it = stream(new CountingSource([0, fail("upstream"), 1]).sync()).map(calls.fn, { concurrency: 2, asCompleted: true }).iterateAsync({ afterError: "resume" });
  await assert.rejects(it.next(), /upstream/);
  const next = it.next();
  await settle();
  calls.call(1).resolve(10);
  assert.deepEqual(await next, { done: false, value: 10 });
  calls.call(0).resolve(0);
  assert.deepEqual(await it.next(), { done: false, value: 0 });
});

test("memory stays bounded: a slow head never lets more than concurrency + 1 elements be pulled ahead", async () => {
  const source = new CountingSource([...Array(100).keys()]);
  const calls = handSettled();
  const it = stream(source.sync()).map(calls.fn, { concurrency: 4 }).iterateAsync({ afterError: "resume" });
  const first = it.next();
  await settle();
  for (const x of [1, 2, 3, 4]) calls.call(x)?.resolve(x);
  await settle();
  assert.equal(source.pulls, 5, "the head is slow: nothing more is pulled however many others finish");
  calls.call(0).resolve(0);
  assert.deepEqual(await first, { done: false, value: 0 });
});

test("do with concurrency yields the inputs, in order, after their effects", async () => {
  const effects: number[] = [];
  const s = stream([3, 1, 2]).do(
    async (x: number) => {
      await new Promise((r) => setImmediate(r, undefined));
      effects.push(x);
    },
    { concurrency: 3 },
  );
  assert.deepEqual(await s.toArray(), [3, 1, 2]);
  assert.deepEqual(effects.sort(), [1, 2, 3]);
});

test("sync iteration runs sync callbacks one after the other, whatever the concurrency", () => {
  assert.deepEqual([...stream([1, 2, 3]).map((x) => x * 2, { concurrency: 3 })], [2, 4, 6]);
});

test("early exit: upstream closed once, in-flight signals aborted, late failures raise nothing", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    const source = new CountingSource([0, 1, 2, 3]);
    const signals: AbortSignal[] = [];
    const calls = new Map<number, Deferred<number>>();
    const s = stream(source.sync()).map(
      (x: number, { signal }) => {
        signals.push(signal);
        const d = new Deferred<number>();
        calls.set(x, d);
        return d.promise;
      },
      { concurrency: 2 },
    );
    const it = s.iterateAsync({ afterError: "resume" });
    const first = it.next();
    await settle();
    calls.get(0)!.resolve(0);
    assert.deepEqual(await first, { done: false, value: 0 });
    const closing = it.return!();
    await settle();
    assert.equal(source.returns, 1);
    assert.ok(signals.every((signal) => signal.aborted), "every call's signal is aborted");
    for (const [x, d] of calls) if (x !== 0) d.reject(new Error(`late failure ${x}`));
    await closing;
    await settle();
    assert.deepEqual(unhandled, []);
    assert.deepEqual(await it.next(), { done: true, value: undefined });
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("an aborted terminal signal rejects at once and aborts the calls in flight", async () => {
  const controller = new AbortController();
  const signals: AbortSignal[] = [];
  const done = stream([1, 2, 3])
    .map((x: number, { signal }) => (signals.push(signal), new Promise<number>(() => {})), { concurrency: 2 })
    .toArray({ signal: controller.signal });
  await settle();
  controller.abort(new Error("cancelled"));
  await assert.rejects(done, /cancelled/);
  assert.equal(signals.length, 2);
  assert.ok(signals.every((signal) => signal.aborted), "every call's signal is aborted");
});

test("bad concurrency options throw when the pipeline is built", () => {
  assert.throws(() => stream([1]).map(String, { concurrency: 0 }), { name: "RangeError", message: "`concurrency` must be an integer >= 1, got 0" });
  assert.throws(() => stream([1]).do(String, { concurrency: 1.5 }), { name: "RangeError", message: "`concurrency` must be an integer >= 1, got 1.5" });
  assert.throws(() => stream([1]).map(String, { asCompleted: 1 } as never), { message: "`asCompleted` must be a boolean, got 1" });
});

test("explain shows concurrency options", () => {
  assert.equal(stream([1]).map(String, { concurrency: 3, asCompleted: true }).explain(), "stream(Array(1))\n  .map(String, { concurrency: 3, asCompleted: true })");
  assert.equal(stream([1]).do(String, { concurrency: 2 }).explain(), "stream(Array(1))\n  .do(String, { concurrency: 2 })");
});

test("property: random latencies and failures give the sequential result, never over the bound", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ latency: fc.integer({ min: 0, max: 20 }), fails: fc.boolean(), upstreamFails: fc.boolean() }), { maxLength: 30 }),
      fc.integer({ min: 1, max: 6 }),
      fc.boolean(),
      async (items, concurrency, asCompleted) => {
        const clock = new ManualClock();
        let inFlight = 0;
        let maxInFlight = 0;
        const source = items.map((item, i) => (item.upstreamFails ? fail(`upstream ${i}`) : i));
        const call = async (i: number) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            await clock.sleep(items[i]!.latency);
            if (items[i]!.fails) throw new Error(`call ${i}`);
            return i;
          } finally {
            inFlight--;
          }
        };
        const sequential = source.map((x, i) => (typeof x !== "number" ? err(`upstream ${i}`) : items[i]!.fails ? err(`call ${i}`) : i));
        let finished = false;
        const output = drainAsync(stream(new CountingSource(source).sync()).map(call, { concurrency, asCompleted }).iterateAsync({ afterError: "resume" })).finally(() => (finished = true));
        while (!finished) await clock.advance(1);
        const out = await output;
        assert.ok(maxInFlight <= concurrency, `max in flight ${maxInFlight} > ${concurrency}`);
        const key = (x: unknown) => JSON.stringify(x);
        if (asCompleted) assert.deepEqual(out.map(key).sort(), sequential.map(key).sort());
        else assert.deepEqual(out, sequential);
      },
    ),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) },
  );
});

forEachMode("map and do with concurrency give the sequential result in every mode", async (mode) => {
  const items = [1, 2, fail("bad"), 3, 4];
  const double = mode.fn((x: number) => {
    if (x === 3) throw new Error("three");
    return x * 2;
  });
  for (const asCompleted of [false, true]) {
    const mapped = await mode.collect(stream(mode.source(items).iterable).map(double, { concurrency: 3, asCompleted }));
    const expected = [2, 4, err("bad"), err("three"), 8];
    if (asCompleted && mode.iteration === "async") assert.deepEqual(mapped.map((x) => JSON.stringify(x)).sort(), expected.map((x) => JSON.stringify(x)).sort());
    else assert.deepEqual(mapped, expected);
    const done = await mode.collect(stream(mode.source([1, 2, 3]).iterable).do(mode.fn(() => undefined), { concurrency: 2, asCompleted }));
    assert.deepEqual(done.map(Number).sort(), [1, 2, 3]);
  }
});

test("no call starts after close, and return() resolves once the calls in flight settle", async () => {
  const calls: { value: number; signal: AbortSignal; done: Deferred<number> }[] = [];
  const call = (value: number, { signal }: { signal: AbortSignal }) => {
    const done = new Deferred<number>();
    calls.push({ value, signal, done });
    return done.promise;
  };
  // The pull of the third element is in flight on a slow source when the loop is left.
  const third = new Deferred<IteratorResult<number>>();
  let pulls = 0;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => (++pulls <= 2 ? Promise.resolve({ done: false, value: pulls }) : third.promise),
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  const it = stream(source).map(call, { concurrency: 3 }).iterateAsync();
  const first = it.next();
  await settle();
  assert.deepEqual(calls.map((c) => c.value), [1, 2]);
  let returned = false;
  const closing = it.return!().then(() => (returned = true));
  third.resolve({ done: false, value: 3 });
  await settle();
  assert.deepEqual(calls.map((c) => c.value), [1, 2], "the element that came after close started no call");
  assert.ok(calls.every((c) => c.signal.aborted), "the calls in flight were told to stop");
  assert.equal(returned, false, "return() waits for the calls in flight");
  calls[0]!.done.resolve(10);
  calls[1]!.done.resolve(20);
  await closing;
  assert.ok(returned, "return() settled once the calls did");
  assert.deepEqual(await first, { done: true, value: undefined });
});

test("buffer then break after the first element: no call starts after the loop is left", async () => {
  for (const concurrency of [1, 2]) {
    const started: number[] = [];
    const pending: Deferred<number>[] = [];
    const call = (x: number) => {
      started.push(x);
      const d = new Deferred<number>();
      pending.push(d);
      return d.promise;
    };
    let seen = -1;
    const loop = (async () => {
      for await (const _ of stream([1, 2, 3, 4, 5, 6]).filter(async () => true).map(call, { concurrency }).buffer(2)) {
        seen = started.length;
        for (const d of pending) d.resolve(0); // the calls in flight settle while the loop closes
        break;
      }
    })();
    await settle();
    pending[0]!.resolve(1); // the first element reaches the loop, which breaks
    await loop;
    await settle();
    assert.deepEqual(started.slice(seen), [], `concurrency ${concurrency}: calls started after the break`);
  }
});

test("map with concurrency: a take downstream that has its count aborts the calls still in flight (async iteration)", async () => {
  const aborted: number[] = [];
  const call = (x: number, { signal }: { signal: AbortSignal }) =>
    x === 0
      ? x
      : new Promise<number>((resolve) => signal.addEventListener("abort", () => (aborted.push(x), resolve(x)), { once: true }));
  const it = stream([0, 1, 2, 3]).map(call, { concurrency: 3 }).take(1).iterateAsync();
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    return "still waiting: the calls in flight never heard the stop";
  };
  // take's end closes the map stage, whose return() waits for its calls: they settle only once their signal aborts.
  assert.deepEqual(await Promise.race([it.next(), turns(50)]), { done: true, value: undefined });
  assert.deepEqual(aborted.sort(), [1, 2, 3], "every call in flight heard the stop");
});

test("concurrency: finished results come out while the next pull from upstream is still pending, and leaving then does not wait for it", async () => {
  for (const asCompleted of [false, true]) {
    const third = new Deferred<IteratorResult<number>>();
    let closed = 0;
    let pulls = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => (++pulls <= 2 ? Promise.resolve({ done: false, value: pulls }) : third.promise),
        return: async () => (closed++, { done: true, value: undefined }),
      }),
    };
    const it = stream(source).map(async (x) => x * 10, { concurrency: 3, asCompleted })[Symbol.asyncIterator]();
    assert.deepEqual(await it.next(), { done: false, value: 10 }, `${asCompleted ? "as completed" : "in order"}: the first result, the third pull pending`);
    assert.deepEqual(await it.next(), { done: false, value: 20 }, "the second too");
    assert.equal(pulls, 3, "the third pull is in flight");
    await it.return!(); // settles though the pull is pending: a queue that never answers must not hold the exit
    third.resolve({ done: false, value: 3 });
    await new Promise((r) => setImmediate(r));
    assert.equal(closed, 1, "the source is closed once");
    assert.equal(pulls, 3, "and not pulled again");
  }
});
