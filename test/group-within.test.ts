import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { ManualClock, runOnClock, settle, timeline } from "./support/clock.js";
import { err } from "./support/modes.js";

/** A source whose elements arrive at the given times (ms), with errors as `Error` items. */
function arrivingAt(clock: ManualClock, schedule: [number, unknown][]): AsyncIterable<unknown> & { pulls: number; returns: number } {
  const source = {
    pulls: 0,
    returns: 0,
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: async (): Promise<IteratorResult<unknown>> => {
          if (i >= schedule.length) return { done: true, value: undefined };
          source.pulls++;
          const [at, item] = schedule[i++]!;
          if (at > clock.now()) await clock.sleep(at - clock.now());
          if (item instanceof Error) throw item;
          return { done: false, value: item };
        },
        return: async () => (source.returns++, (i = Infinity), { done: true as const, value: undefined }),
      };
    },
  };
  return source;
}

test("group within: a group is emitted once `within` passed since its first element, while upstream waits", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [100, 2], [700, 3], [800, 4]]);
  const out = await runOnClock(clock, timeline(clock, stream(source).group({ upTo: 10, within: 500 })));
  assert.deepEqual(out, [[500, [1, 2]], [800, [3, 4]]]);
});

test("group within: the deadline runs from the group's first element, not from the last emission", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [400, 2], [600, 3], [1000, 4], [2000, 5]]);
  const out = await runOnClock(clock, timeline(clock, stream(source).group({ within: "500ms" })));
  assert.deepEqual(out, [[500, [1, 2]], [1100, [3, 4]], [2000, [5]]]);
});

test("group within: `upTo` still emits a full group at once", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [10, 2], [20, 3]]);
  const out = await runOnClock(clock, timeline(clock, stream(source).group({ upTo: 2, within: 1000 })));
  assert.deepEqual(out, [[10, [1, 2]], [20, [3]]]);
});

test("group within, by key: only the oldest group is emitted per deadline; the others wait for theirs", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [100, 2], [200, 3], [2000, 5]]);
  const s = stream(source).group({ within: 500, by: (x: unknown) => (x as number) % 2 });
  const out = await runOnClock(clock, timeline(clock, s));
  assert.deepEqual(out, [[500, [1, [1, 3]]], [600, [0, [2]]], [2000, [1, [5]]]]);
});

test("group within: an error flushes pending groups oldest first, then comes out, then grouping goes on", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [10, 2], [20, new Error("bad")], [30, 3]]);
  const s = stream(source).group({ within: 1000, by: (x: unknown) => (x as number) % 2 });
  const out = await runOnClock(clock, timeline(clock, s));
  assert.deepEqual(out, [[20, [1, [1]]], [20, [0, [2]]], [20, err("bad")], [30, [1, [3]]]]);
});

test("group within: at most one upstream pull in flight, and none ahead of the consumer", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [10, 2], [5000, 3], [5001, 4]]);
  const it = stream(source).group({ within: 100 }).iterateAsync({ clock, afterError: "resume" });
  const first = it.next();
  await runOnClock(clock, first);
  assert.equal(source.pulls, 3, "two elements, and the pull of the third still in flight");
  await settle();
  assert.equal(source.pulls, 3, "the consumer is away: nothing more is pulled");
});

test("group within: an overdue group is emitted before an element that arrived meanwhile is added", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [300, 2]]);
  const it = stream(source).group({ within: 100 }).iterateAsync({ clock, afterError: "resume" });
  const first = it.next();
  await settle();
  await clock.advance(50);
  // The consumer waits for [1] to be due at 100; meanwhile 2 is pulled (arrives at 300).
  assert.deepEqual(await runOnClock(clock, first), { done: false, value: [1] });
  await clock.advance(1000); // the consumer is away when 2 arrives
  assert.deepEqual(await it.next(), { done: false, value: [2] });
});

test("group within: a group that fell due while the consumer was away comes first on its next call, before ready elements are added", async () => {
  const clock = new ManualClock();
  const it = stream([2, 1, 3, 4]).group({ upTo: 2, within: 100, by: (x) => x % 2 }).iterateAsync({ clock, afterError: "resume" });
  assert.deepEqual(await it.next(), { done: false, value: [1, [1, 3]] });
  await clock.advance(150);
  assert.deepEqual(await it.next(), { done: false, value: [0, [2]] });
  assert.deepEqual(await it.next(), { done: false, value: [0, [4]] });
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

test("group within: when a wait ends at the deadline, the due group is emitted before the element that ended it is added", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [100, 2]]);
  const out = await runOnClock(clock, timeline(clock, stream(source).group({ within: 100 })));
  assert.deepEqual(out, [[100, [1]], [100, [2]]]);
});

test("group within: after an async `by` resolves, a group that fell due meanwhile is emitted before the next element is added", async () => {
  const clock = new ManualClock();
  const by = async (x: number) => {
    if (x === 3) await clock.sleep(150);
    return x % 2;
  };
  const out = await runOnClock(clock, timeline(clock, stream([2, 1, 3, 4]).group({ upTo: 3, within: 100, by })));
  assert.deepEqual(out, [[150, [0, [2]]], [150, [1, [1, 3]]], [150, [0, [4]]]]);
});

test("group within: in a run of ready elements, a group that falls due is emitted within 16 elements", async () => {
  let now = 0;
  const clock = { now: () => now, sleep: () => new Promise<void>(() => {}) };
  const items = Array.from({ length: 100 }, (_, i) => i);
  // Time jumps past the first group's deadline while element 10 is read; elements keep coming, ready.
  const groups = await stream(items)
    .do((x) => void (x === 10 && (now = 1000)))
    .group({ upTo: 1000, within: 100 })
    .toArray({ clock });
  assert.ok(groups.length >= 2, "the first group did not wait for the end");
  assert.ok(groups[0]!.length > 10 && groups[0]!.length <= 10 + 16, `first group of ${groups[0]!.length}`);
  assert.deepEqual(groups.flat(), items, "nothing lost, duplicated or reordered");
});

test("group within: leaving early clears its timer and closes the source", async () => {
  const clock = new ManualClock();
  const source = arrivingAt(clock, [[0, 1], [10, 2], [20, 3], [100_000, 4]]);
  const it = stream(source).group({ upTo: 2, within: 5000 }).iterateAsync({ clock, afterError: "resume" });
  assert.deepEqual(await runOnClock(clock, it.next()), { done: false, value: [1, 2] });
  const waiting = it.next();
  waiting.catch(() => {});
  await clock.advance(20);
  assert.equal(clock.pendingTimers, 2, "the pending group's deadline, and the source's own wait for 4");
  await it.return!();
  await settle();
  assert.equal(source.returns, 1);
  assert.equal(clock.pendingTimers, 1, "only the source's own wait is left");
});

test("group within runs only in async iteration; a bad `within` throws when the pipeline is built", () => {
  assert.throws(() => [...(stream([1]).group({ within: "1s" }) as unknown as Iterable<number>)], /group\(\{ within: "1s" \}\) runs only in async iteration/);
  assert.throws(() => stream([1]).group({ within: 0 }), { name: "RangeError" });
  assert.throws(() => stream([1]).group({ within: "soon" as never }), /`within` must be a positive duration/);
  assert.equal(stream([1]).group({ upTo: 100, within: "1s" }).explain(), 'stream(Array(1))\n  .group({ upTo: 100, within: "1s" })');
});
