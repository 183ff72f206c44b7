/**
 * A job runs for hours over millions of rows: no operation may keep what it has
 * passed on. Each case pulls 3,000 rows (every 7th pull throws), pauses in the
 * middle of the iteration, collects garbage and counts how many rows, errors and
 * outputs are still reachable. What an operation holds by design (a group being
 * filled, a buffer, the calls in flight) is a few dozen; a leak holds thousands.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { stream, type IteratorOptions, type Stream, type SyncStream } from "streamable-ts";
import { SkippingClock } from "./support/clock.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const PULLS = 3_000;
/** The pull at which the check runs: far enough that a leak shows, early enough that the iteration is mid-way. */
const CHECK_AT = 2_500;

interface Row {
  readonly id: number;
  readonly payload: string;
}

/** Weak references to everything a case made; what is still alive after a collection is what something keeps. */
class Tracker {
  readonly #refs: WeakRef<object>[] = [];
  track<T>(value: T): T {
    if (typeof value === "object" && value !== null) this.#refs.push(new WeakRef(value));
    return value;
  }
  /** Collects garbage outside the current job (a job keeps the targets it touched) and counts the survivors. */
  async alive(): Promise<number> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    gc();
    let alive = 0;
    for (const ref of this.#refs) if (ref.deref() !== undefined) alive++;
    return alive;
  }
}

/** 3,000 pulls of rows, every 7th one an error; it goes on after an error, as a cursor or a queue does. */
class RowSource {
  pulls = 0;
  readonly tracker = new Tracker();
  pull(): IteratorResult<Row> {
    if (this.pulls >= PULLS) return { done: true, value: undefined };
    const id = this.pulls++;
    if (id % 7 === 6) throw this.tracker.track(new Error(`row ${id} failed`));
    return { done: false, value: this.tracker.track({ id, payload: `row ${id}` }) };
  }
  sync(): Iterable<Row> {
    return { [Symbol.iterator]: () => ({ next: () => this.pull() }) };
  }
  /** As an async iterable; `paused` runs when the CHECK_AT-th pull is asked for, before it is answered. */
  async(paused?: () => Promise<void>): AsyncIterable<Row> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          if (this.pulls === CHECK_AT && paused) await paused();
          return this.pull();
        },
      }),
    };
  }
}

const clone = (row: Row): Row => ({ ...row });
const cloneAsync = async (row: Row): Promise<Row> => ({ ...row });
const twice = (row: Row): Row[] => [row, clone(row)];
const failedOnce = new WeakSet<Row>();
/** Every 10th row fails on its first attempt, with "retry now" as its hint. */
const flaky = async (row: Row): Promise<Row> => {
  if (row.id % 10 === 0 && !failedOnce.has(row)) {
    failedOnce.add(row);
    throw Object.assign(new Error("503"), { retryAfter: 0 });
  }
  return clone(row);
};

interface Case {
  readonly name: string;
  readonly build: (rows: Stream<Row>) => Stream<unknown>;
  /** Iterations the case runs under: sync ones only when the plan can run synchronously. */
  readonly sync: boolean;
  /** How many rows, errors and outputs it may hold by design at the check. */
  readonly holds: number;
}

const SLACK = 40;
const cases: readonly Case[] = [
  { name: "map", build: (s) => s.map(clone), sync: true, holds: 0 },
  { name: "map, async callback", build: (s) => s.map(cloneAsync), sync: false, holds: 0 },
  { name: "map, concurrency 4", build: (s) => s.map(cloneAsync, { concurrency: 4 }), sync: false, holds: 8 },
  { name: "map, concurrency 4, asCompleted", build: (s) => s.map(cloneAsync, { concurrency: 4, asCompleted: true }), sync: false, holds: 8 },
  { name: "map with retry, concurrency 3", build: (s) => s.map(flaky, { concurrency: 3, retry: { attempts: 2 } }), sync: false, holds: 6 },
  { name: "do and filter", build: (s) => s.do(() => {}).filter((row) => row.id % 2 === 0), sync: true, holds: 0 },
  { name: "do, concurrency 3", build: (s) => s.do(async () => {}, { concurrency: 3 }), sync: false, holds: 6 },
  { name: "flatten", build: (s) => s.map(twice).flatten(), sync: true, holds: 2 },
  { name: "flatten, concurrency 3", build: (s) => s.map(twice).flatten({ concurrency: 3 }), sync: true, holds: 12 },
  { name: "group(100)", build: (s) => s.group(100), sync: true, holds: 100 },
  { name: "group by", build: (s) => s.group({ upTo: 10, by: (row) => row.id % 5 }), sync: true, holds: 50 },
  { name: "group within", build: (s) => s.group({ upTo: 50, within: "1s" }), sync: false, holds: 50 },
  { name: "skip and take", build: (s) => s.skip(5).take(1e9).skip((row) => row.id >= 10).take((row) => row.id < 0), sync: true, holds: 0 },
  { name: "catch", build: (s) => s.catch(), sync: true, holds: 0 },
  { name: "catch, replace", build: (s) => s.catch(Error, { replace: (error) => ({ error }) }), sync: true, holds: 0 },
  // The first error is kept, to be thrown once upstream ends; the others go.
  { name: "catch, finallyThrow", build: (s) => s.catch(Error, { finallyThrow: true }), sync: true, holds: 1 },
  { name: "observe", build: (s) => s.observe("rows", { do: () => {} }), sync: true, holds: 0 },
  { name: "observe every 1s", build: (s) => s.observe("rows", { every: "1s", do: () => {} }), sync: false, holds: 0 },
  { name: "throttle", build: (s) => s.throttle(10_000, { per: "1s" }), sync: false, holds: 0 },
  { name: "buffer(16)", build: (s) => s.buffer(16), sync: false, holds: 17 },
  { name: "concat", build: (s) => s.concat([{ id: -1, payload: "after" }]), sync: true, holds: 0 },
  {
    name: "the reference job",
    build: (s) =>
      s
        .map(clone)
        .observe("users", { do: () => {} })
        .group(100)
        .observe("user batches", { do: () => {} })
        .throttle(16, { per: "1s" })
        .map(async (users) => users.length, { concurrency: 3 })
        .observe("integrated user batches", { do: () => {} })
        .catch(Error, { finallyThrow: true }),
    sync: false,
    holds: 100 + 3 * 100 + 1,
  },
];

/**
 * Reads answers until the source has been pulled CHECK_AT times, tracking each output and each error: an error
 * is an answer too, and the iteration goes on after it.
 */
async function readToTheCheck(next: () => IteratorResult<unknown> | Promise<IteratorResult<unknown>>, source: RowSource): Promise<void> {
  while (source.pulls < CHECK_AT) {
    let result: IteratorResult<unknown>;
    try {
      result = await next();
    } catch (error) {
      source.tracker.track(error);
      continue;
    }
    if (result.done) assert.fail(`ended after ${source.pulls} pulls, before the check`);
    source.tracker.track(result.value);
  }
}

function assertHoldsAtMost(c: Case, alive: number): void {
  assert.ok(alive <= c.holds + SLACK, `${c.name}: ${alive} rows, errors and outputs still reachable, ${c.holds} by design`);
}

describe("memory: nothing passed on stays reachable", () => {
  for (const c of cases) {
    describe(c.name, () => {
      if (c.sync) {
        test("sync iteration", async () => {
          const source = new RowSource();
          const iterator = (c.build(stream(source.sync())) as unknown as SyncStream<unknown>).iterate({ afterError: "resume" });
          await readToTheCheck(() => iterator.next(), source);
          assertHoldsAtMost(c, await source.tracker.alive());
          iterator.return?.();
        });
      }

      test("for await, with a signal", async () => {
        const source = new RowSource();
        const controller = new AbortController();
        const options: IteratorOptions = { clock: new SkippingClock(), signal: controller.signal, afterError: "resume" };
        const iterator = c.build(stream(source.async())).iterateAsync(options);
        await readToTheCheck(() => iterator.next(), source);
        assertHoldsAtMost(c, await source.tracker.alive());
        // One listener per call in flight at most, not one per call ever made.
        assert.ok(getEventListeners(controller.signal, "abort").length <= 1, "one abort listener per call in flight at most");
        await iterator.return!();
        assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      });

      test("run(), a sync source", async () => {
        const source = new RowSource();
        let alive = -1;
        // The sync source is read in async iteration; the check runs from a callback at the CHECK_AT-th pull.
        const checked = c
          .build(stream(source.sync()))
          .catch()
          .do(async () => {
            if (source.pulls >= CHECK_AT && alive < 0) alive = await source.tracker.alive();
          })
          .run({ clock: new SkippingClock() });
        await checked;
        assert.ok(alive >= 0, "the check ran");
        assertHoldsAtMost(c, alive);
      });

      test("count(), an async source", async () => {
        const source = new RowSource();
        let alive = -1;
        const counted = c
          .build(stream(source.async(async () => void (alive = await source.tracker.alive()))))
          .catch()
          .count({ clock: new SkippingClock() });
        assert.ok((await counted) > 0, "nothing came out");
        assert.ok(alive >= 0, "the check ran");
        assertHoldsAtMost(c, alive);
      });
    });
  }
});

