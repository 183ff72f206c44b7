import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { memoryStore, stream } from "streamable-ts";
import { ManualClock, runOnClock, settle, timeline } from "./support/clock.js";
import { CountingSource, err, fail, forEachMode } from "./support/modes.js";

/** An async source whose i-th element arrives `delays[i]` ms after it is asked for. */
function slowSource(clock: ManualClock, delays: number[]): AsyncIterable<number> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const [i, delay] of delays.entries()) {
        await clock.sleep(delay);
        yield i;
      }
    },
  };
}

forEachMode("throttle yields every element and error in order (async iteration)", async (mode) => {
  if (mode.iteration === "sync") return; // async-only: its own test below says so
  const { counter, iterable } = mode.source([1, fail("bad"), 2, 3]);
  // A window wider than the stream: nothing waits, so the real clock serves.
  const s = stream(iterable).map(mode.fn((x: number) => x * 2)).throttle(10, { per: "1s" });
  assert.deepEqual(await mode.collect(s), [2, err("bad"), 4, 6]);
  assert.deepEqual([counter.pulls, counter.returns], [4, 0], "every element pulled once; a source read to its end is not closed again");
});

test("throttle: the first `upTo` go at once, then each waits for the one `upTo` before it to be `per` old", async () => {
  const clock = new ManualClock();
  const out = await runOnClock(clock, timeline(clock, stream([1, 2, 3, 4, 5]).throttle(2, { per: 1000 })));
  assert.deepEqual(out, [[0, 1], [0, 2], [1000, 3], [1000, 4], [2000, 5]]);
});

test("throttle: errors count as emissions and keep their place", async () => {
  const clock = new ManualClock();
  const s = stream(new CountingSource([1, fail("bad"), 2]).sync()).throttle(1, { per: "1s" });
  assert.deepEqual(await runOnClock(clock, timeline(clock, s)), [[0, 1], [1000, err("bad")], [2000, 2]]);
});

test("throttle: pulls first, then waits, so time spent upstream counts toward the window", async () => {
  const clock = new ManualClock();
  const s = stream(slowSource(clock, [600, 600, 600])).throttle(1, { per: 1000 });
  assert.deepEqual(await runOnClock(clock, timeline(clock, s)), [[600, 0], [1600, 1], [2600, 2]]);
});

test("throttle: the end of the stream is not delayed", async () => {
  const clock = new ManualClock();
  const it = stream([1]).throttle(1, { per: "1h" }).iterateAsync({ clock });
  await it.next();
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  assert.equal(clock.pendingTimers, 0);
});

test("throttle: leaving while it waits clears its timer and closes the source", async () => {
  const clock = new ManualClock();
  const source = new CountingSource([1, 2, 3]);
  const it = stream(source.sync()).throttle(1, { per: "1m" }).iterateAsync({ clock });
  await it.next();
  const waiting = it.next();
  await settle();
  assert.equal(clock.pendingTimers, 1);
  await it.return!();
  await assert.rejects(waiting);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(source.returns, 1);
});

test("throttle runs only in async iteration, and says so", () => {
  const s = stream([1]).throttle(2, { per: "1s" }) as unknown as Iterable<number>;
  assert.throws(() => [...s], /cannot be iterated synchronously: throttle\(2, \{ per: "1s" \}\) runs only in async iteration/);
});

test("throttle: bad arguments throw when the pipeline is built", () => {
  assert.throws(() => stream([1]).throttle(0, { per: 1000 }), { name: "RangeError", message: "`upTo` must be an integer >= 1, got 0" });
  assert.throws(() => stream([1]).throttle(1, {} as never), /`throttle` needs `per`/);
  assert.throws(() => stream([1]).throttle(1, { per: "1 sec" as never }), {
    name: "TypeError",
    message: '`per` must be a positive duration: milliseconds, or a string such as "500ms", "1s", "2m", "1h"; got "1 sec"',
  });
  assert.throws(() => stream([1]).throttle(1, { per: 0 }), { name: "RangeError" });
  assert.throws(() => stream([1]).throttle(1, { per: -5 }), { name: "RangeError" });
});

test("durations read milliseconds and ms, s, m, h strings", async () => {
  for (const [per, ms] of [[250, 250], ["250ms", 250], ["1.5s", 1500], ["2m", 120_000], ["1h", 3_600_000]] as const) {
    const clock = new ManualClock();
    const out = await runOnClock(clock, timeline(clock, stream([1, 2]).throttle(1, { per })));
    assert.deepEqual(out, [[0, 1], [ms, 2]], String(per));
  }
});

test("property: no window of `per` holds more than `upTo` emissions, and none is later than the rule requires", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 25 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 500 }),
      async (delays, upTo, per) => {
        const clock = new ManualClock();
        const arrivals: number[] = [];
        const source: AsyncIterable<number> = {
          async *[Symbol.asyncIterator]() {
            for (const [i, delay] of delays.entries()) {
              await clock.sleep(delay);
              arrivals.push(clock.now());
              yield i;
            }
          },
        };
        const times = (await runOnClock(clock, timeline(clock, stream(source).throttle(upTo, { per })))).map(([t]) => t);
        assert.equal(times.length, delays.length);
        for (let k = 0; k < times.length; k++) {
          const earliest = Math.max(arrivals[k]!, k >= upTo ? times[k - upTo]! + per : -Infinity);
          assert.equal(times[k], earliest, `emission ${k}: at ${times[k]}, allowed from ${earliest}`);
          const inWindow = times.filter((t) => t > times[k]! - per && t <= times[k]!).length;
          assert.ok(inWindow <= upTo, `${inWindow} emissions in the window ending at ${times[k]}`);
        }
      },
    ),
    { numRuns: 100 },
  );
});

test("throttle with a store and a key: two streams share one window", async () => {
  const clock = new ManualClock();
  const store = memoryStore({ clock });
  const times: string[] = [];
  const paced = (name: string) =>
    stream([1, 2])
      .throttle(1, { per: "1s", store, key: "api" })
      .do(() => void times.push(`${name}@${clock.now()}`))
      .run({ clock });
  await runOnClock(clock, Promise.all([paced("a"), paced("b")]));
  assert.deepEqual(times.map((t) => Number(t.split("@")[1])), [0, 1000, 2000, 3000], `one window for both: ${times}`);
  assert.equal(stream([1]).throttle(2, { per: "1s", store, key: "api-2" }).explain(), 'stream(Array(1))\n  .throttle(2, { per: "1s", key: "api-2" })');
  assert.throws(() => stream([1]).throttle(1, { per: 1, store }), /takes `store` and `key` together/);
});
