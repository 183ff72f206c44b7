import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { memoryStore, retrying, stream, throttling, type Quota, type ThrottleStore } from "streamable-ts";
import { ManualClock, runOnClock, settle } from "./support/clock.js";

test("throttling: calls start at most `upTo` per sliding window, in the order they were made", async () => {
  const clock = new ManualClock();
  const starts: [number, number][] = [];
  const call = throttling(async (x: number) => (starts.push([clock.now(), x]), x), { upTo: 2, per: "1s", clock });
  const results = await runOnClock(clock, Promise.all([1, 2, 3, 4, 5].map((x) => call(x))));
  assert.deepEqual(results, [1, 2, 3, 4, 5]);
  assert.deepEqual(starts, [[0, 1], [0, 2], [1000, 3], [1000, 4], [2000, 5]]);
});

test("throttling inside retry: every attempt counts against the window", async () => {
  const clock = new ManualClock();
  const starts: number[] = [];
  let failures = 1;
  const flaky = async () => {
    starts.push(clock.now());
    if (failures-- > 0) throw Object.assign(new Error("503"), { retryAfter: 0 });
    return "ok";
  };
  const call = retrying(throttling(flaky, { upTo: 1, per: 500, clock }), { clock });
  assert.equal(await runOnClock(clock, call()), "ok");
  assert.deepEqual(starts, [0, 500], "the retry waited for the window, not only for its backoff");
});

test("throttling in a stream: concurrent map calls share one window; an abort stops a waiting call", async () => {
  const clock = new ManualClock();
  const starts: number[] = [];
  const post = throttling(async (x: number, _options: { signal: AbortSignal }) => (starts.push(clock.now()), x), { upTo: 1, per: "1m", clock });
  const controller = new AbortController();
  const done = stream([1, 2, 3]).map(post, { concurrency: 3 }).toArray({ clock, signal: controller.signal });
  await settle();
  assert.deepEqual(starts, [0]);
  assert.equal(clock.pendingTimers, 1, "the next call waits for the window");
  controller.abort(new Error("stop"));
  await assert.rejects(done, /stop/);
  await settle();
  assert.equal(clock.pendingTimers, 0, "no timer is left behind");
  assert.match(post.name, /^throttling\(.*, 1 per 1m from settled\)$/);
});

test("throttling: bad options throw at once", () => {
  assert.throws(() => throttling(String, { upTo: 0, per: 1000 }), { name: "RangeError", message: "`upTo` must be an integer >= 1, got 0" });
  assert.throws(() => throttling(String, { upTo: 1, per: "fast" as never }), /`per` must be a positive duration/);
  assert.throws(() => throttling(String, { upTo: 1, per: 1, burst: 2 } as never), /unknown option `burst` in `throttling` options/);
});

/** The deepest overlap of half-open intervals [start, end). */
function deepestOverlap(intervals: readonly [number, number][]): number {
  const events = intervals.flatMap(([start, end]) => [[start, 1] as const, [end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let depth = 0;
  let deepest = 0;
  for (const [, step] of events) deepest = Math.max(deepest, (depth += step));
  return deepest;
}

/** The most times of `times` inside any half-open window of `per`. */
function busiestWindow(times: readonly number[], per: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= per) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const schedules = fc.record({
  upTo: fc.integer({ min: 1, max: 4 }),
  per: fc.integer({ min: 10, max: 1000 }),
  /** When each call is made, and how long it takes to settle (some fail). */
  calls: fc.array(fc.record({ at: fc.integer({ min: 0, max: 3000 }), takes: fc.integer({ min: 0, max: 2000 }), fails: fc.boolean() }), { minLength: 1, maxLength: 25 }),
});

test("property: from settled, the places [start, settle + per) never overlap more than upTo deep; from start, starts never exceed upTo in a window", async () => {
  await fc.assert(
    fc.asyncProperty(schedules, fc.constantFrom("start" as const, "settled" as const), async ({ upTo, per, calls }, from) => {
      const clock = new ManualClock();
      const intervals: [number, number][] = [];
      const starts: number[] = [];
      const call = throttling(
        async (takes: number, fails: boolean) => {
          const start = clock.now();
          starts.push(start);
          await clock.sleep(takes);
          intervals.push([start, clock.now() + per]);
          if (fails) throw new Error("failed");
        },
        { upTo, per, from, clock },
      );
      const all = calls.map(({ at, takes, fails }) => clock.sleep(at).then(() => call(takes, fails)).catch(() => {}));
      await runOnClock(clock, Promise.all(all));
      assert.equal(starts.length, calls.length, "every call ran");
      if (from === "settled") assert.ok(deepestOverlap(intervals) <= upTo, `overlap ${deepestOverlap(intervals)} > ${upTo}`);
      assert.ok(busiestWindow(starts, per) <= upTo, `${busiestWindow(starts, per)} starts in one window of ${per}`);
    }),
    { numRuns: 300 },
  );
});

test("property: throttle(n, { per }) right before a concurrent map starts at most n calls in any per, whatever the latencies", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 10, max: 500 }),
      fc.integer({ min: 2, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 1, maxLength: 30 }),
      fc.boolean(),
      async (upTo, per, concurrency, latencies, asCompleted) => {
        const clock = new ManualClock();
        const starts: number[] = [];
        const call = async (i: number) => {
          starts.push(clock.now());
          await clock.sleep(latencies[i]!);
          return i;
        };
        const s = stream(latencies.map((_, i) => i)).throttle(upTo, { per }).map(call, { concurrency, asCompleted });
        const out = await runOnClock(clock, s.toArray({ clock }));
        assert.equal(out.length, latencies.length);
        assert.ok(busiestWindow(starts, per) <= upTo, `${busiestWindow(starts, per)} calls started in one window of ${per}`);
      },
    ),
    { numRuns: 300 },
  );
});

test("throttling from settled: a slow call holds its place until per after it settles", async () => {
  const clock = new ManualClock();
  const starts: number[] = [];
  const call = throttling(async (takes: number) => (starts.push(clock.now()), clock.sleep(takes)), { upTo: 1, per: 1000, clock });
  await runOnClock(clock, Promise.all([call(300), call(0)]));
  assert.deepEqual(starts, [0, 1300], "the second call waits for the first to settle, then for per");
  const fromStart = throttling(async (takes: number) => (starts.push(clock.now()), clock.sleep(takes)), { upTo: 1, per: 1000, from: "start", clock });
  starts.length = 0;
  const t0 = clock.now();
  await runOnClock(clock, Promise.all([fromStart(300), fromStart(0)]));
  assert.deepEqual(starts.map((t) => t - t0), [0, 1000]);
});

test("a store shared by wrappers: one quota by key; a different quota for the same key fails, naming both", async () => {
  const clock = new ManualClock();
  const store = memoryStore({ clock });
  const starts: string[] = [];
  const users = throttling(async () => void starts.push(`users@${clock.now()}`), { upTo: 1, per: "1s", store, key: "partner-api", clock });
  const orders = throttling(async () => void starts.push(`orders@${clock.now()}`), { upTo: 1, per: "1s", store, key: "partner-api", clock });
  await runOnClock(clock, Promise.all([users(), orders(), users()]));
  assert.deepEqual(starts, ["users@0", "orders@1000", "users@2000"]);
  const other = throttling(async () => {}, { upTo: 2, per: "1s", store, key: "partner-api", clock });
  await assert.rejects(other(), { message: 'the quota "partner-api" is set as 1 per 1000 ms from settled already; this call asks for 2 per 1000 ms from settled' });
  assert.match(users.name, /^throttling\(.*, 1 per 1s from settled, shared "partner-api"\)$/);
});

test("throttling: an aborted wait gives its turn back and takes no place", async () => {
  const clock = new ManualClock();
  const starts: number[] = [];
  const call = throttling(async (x: number, _options: { signal: AbortSignal }) => (starts.push(x), x), { upTo: 1, per: 1000, clock });
  const first = call(1, { signal: new AbortController().signal });
  const stop = new AbortController();
  const aborted = call(2, { signal: stop.signal });
  const third = call(3, { signal: new AbortController().signal });
  await settle();
  stop.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  assert.deepEqual(await runOnClock(clock, Promise.all([first, third])), [1, 3]);
  assert.deepEqual(starts, [1, 3]);
  assert.equal(clock.now(), 1000, "the third call went at the first free place, not one later");
});

test("a custom store: the interface is small enough to write by hand", async () => {
  const asked: string[] = [];
  // A store that grants everything and records what it was asked: a stand-in for another backend.
  const store: ThrottleStore = {
    async acquire(key: string, quota: Quota) {
      asked.push(`${key}: ${quota.upTo}/${quota.per} ${quota.from}`);
      return { release: () => void asked.push("released") };
    },
  };
  const call = throttling(async (x: number) => x * 2, { upTo: 16, per: "1s", store, key: "api" });
  assert.deepEqual(await stream([1, 2]).map(call).toArray(), [2, 4]);
  assert.deepEqual(asked, ["api: 16/1000 settled", "released", "api: 16/1000 settled", "released"]);
  assert.throws(() => throttling(String, { upTo: 1, per: 1, store }), /needs a `key`/);
  assert.throws(() => throttling(String, { upTo: 1, per: 1, from: "end" as never }), /`from` must be "start" or "settled", got "end"/);
  assert.throws(() => throttling(String, { upTo: 1, per: 1, store: {} as never, key: "k" }), /`store` must have `acquire/);
});
