import assert from "node:assert/strict";
import { test } from "node:test";
import { retrying, stream, throttling } from "streamable-ts";
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
  assert.match(post.name, /^throttling\(anonymous, 1 per "1m"\)$|^throttling\(.*\), 1 per "1m"\)$/);
});

test("throttling: bad options throw at once", () => {
  assert.throws(() => throttling(String, { upTo: 0, per: 1000 }), { name: "RangeError", message: "`upTo` must be an integer >= 1, got 0" });
  assert.throws(() => throttling(String, { upTo: 1, per: "fast" as never }), /`per` must be a positive duration/);
  assert.throws(() => throttling(String, { upTo: 1, per: 1, burst: 2 } as never), /unknown option `burst` in `throttling` options/);
});
