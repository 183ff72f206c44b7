// Every timer a run sets is cleared when the run ends, however it ends: after each terminal, after a
// `for await` that reaches the end, and after one left by an error. Time-based operations run here on the
// real clock with hour-long windows, so a timer left behind would still be pending when the check runs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, systemClock, type Stream } from "streamable-ts";

function timersLeft(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

async function* rows(n: number): AsyncGenerator<number> {
  for (let i = 1; i <= n; i++) {
    await Promise.resolve();
    yield i;
  }
}

/** A call that fails its first attempt per element, with a hint to retry now. */
function flaky(): (x: number) => number {
  const failed = new Set<number>();
  return (x) => {
    if (failed.has(x)) return x;
    failed.add(x);
    throw Object.assign(new Error("503"), { retryAfter: 0 });
  };
}

const timeBased: [string, (s: Stream<number>) => Stream<unknown>][] = [
  ["group within", (s) => s.group({ upTo: 2, within: "5s" })],
  ["group within by key", (s) => s.group({ upTo: 2, within: "1h", by: (x) => x % 2 })],
  ["observe every 30s", (s) => s.observe("rows", { every: "30s", do: () => {} })],
  ["throttle", (s) => s.throttle(10, { per: "1h" })],
  ["map with retry", (s) => s.map(flaky(), { retry: { attempts: 2, backoff: { initial: "1h" } } })],
  ["map with retry, concurrency 2", (s) => s.map(flaky(), { concurrency: 2, retry: { attempts: 2, backoff: { initial: "1h" } } })],
  // ["map with timeout", (s) => s.map(async (x) => x, { timeout: "1h" })],
  // ["do with timeout, concurrency 2", (s) => s.do(async () => {}, { concurrency: 2, timeout: "1h" })],
];

const ends: [string, (s: Stream<unknown>) => Promise<unknown>][] = [
  ["toArray", (s) => s.toArray()],
  ["count", (s) => s.count()],
  ["run", (s) => s.run()],
  ["reduce", (s) => s.reduce((n: number) => n + 1, 0)],
  ["for await to the end", async (s) => { for await (const _ of s); }],
  [
    "for await left by an error",
    async (s) => {
      let seen = 0;
      const failing = s.map((x) => {
        if (++seen === 2) throw new Error("the second output");
        return x;
      });
      await assert.rejects(async () => { for await (const _ of failing); }, /the second output/);
    },
  ],
];

for (const [name, build] of timeBased) {
  test(`no timer is left once a run ends: ${name}`, async () => {
    const before = timersLeft();
    for (const [how, end] of ends) {
      await end(build(stream(rows(5))));
      assert.equal(timersLeft(), before, `${how}: ${timersLeft() - before} timer(s) left`);
    }
  });
}

test("durations above the longest timer (2^31 - 1 ms, about 24.8 days) are rejected when the pipeline is built", () => {
  const tooLong = /must be at most 2147483647 ms \(about 24.8 days, the longest timer\), got "1000h"/;
  assert.throws(() => stream([1]).group({ within: "1000h" }), { name: "RangeError", message: /^`within` / });
  assert.throws(() => stream([1]).group({ within: "1000h" }), tooLong);
  assert.throws(() => stream([1]).observe("x", { every: "1000h" }), tooLong);
  assert.throws(() => stream([1]).throttle(1, { per: "1000h" }), tooLong);
  assert.throws(() => stream([1]).map(String, { retry: { backoff: { initial: "1000h" } } }), tooLong);
  assert.throws(() => stream([1]).map(String, { retry: { backoff: { max: 2 ** 31 } } }), /`max` must be at most 2147483647 ms/);
  // The longest that fits is taken.
  assert.doesNotThrow(() => stream([1]).group({ within: 2 ** 31 - 1 }).throttle(1, { per: "596h" }));
});

test("systemClock: a wait longer than one timer can take is chained, not cut short", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  let woke = false;
  const wait = systemClock.sleep(2 ** 31 + 5_000).then(() => (woke = true));
  t.mock.timers.tick(2 ** 31 - 1);
  await Promise.resolve();
  assert.equal(woke, false, "still waiting after the first timer");
  t.mock.timers.tick(5_000);
  await Promise.resolve();
  assert.equal(woke, false, "one millisecond short");
  t.mock.timers.tick(1);
  await wait;
  assert.equal(woke, true);
});

test("systemClock: a wait with keepAlive: false does not hold the process; an abort clears any wait", async () => {
  const controller = new AbortController();
  const before = timersLeft();
  // An unref'ed timer is not among the resources that keep the event loop alive.
  const background = systemClock.sleep(60_000, controller.signal, { keepAlive: false });
  assert.equal(timersLeft(), before);
  const awaited = systemClock.sleep(60_000, controller.signal);
  assert.equal(timersLeft(), before + 1, "a wait someone awaits holds the process");
  controller.abort(new Error("stop"));
  await assert.rejects(background, /stop/);
  await assert.rejects(awaited, /stop/);
  assert.equal(timersLeft(), before);
});
