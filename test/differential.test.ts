// Random pipelines against a model of their semantics: every way of running one gives the same elements and errors.
//
// The model (`modelOf`) is the reference semantics written as plain array functions over the source's events: an
// element or an error, in order (SEMANTICS.md 1.3, 2.1-2.6). Each generated pipeline mixes sync callbacks, async
// ones and ones that return a promise only for some elements, so the library's fast paths (steps answered at once,
// loops under `for await`, terminals that drain, concurrent pools) meet each other at random boundaries. Time-based
// steps (throttle's window, retry's pauses) run on a clock whose waits end on the next turn of the event loop.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { stream, type Stream, type SyncStream } from "streamable-ts";
import { SkippingClock } from "./support/clock.js";
import { CountingSource, drainAsync, drainSync, fail, type Failure, type Thrown } from "./support/modes.js";

type Event = { readonly value: unknown } | { readonly error: string };
type Timing = "sync" | "async" | "mixed";

/** Every op's callbacks fail for the elements whose digest is `failRes` modulo `failMod` (never when `failMod` is 0). */
interface Failing {
  readonly failMod: number;
  readonly failRes: number;
}
type Op =
  | ({ readonly op: "map"; readonly k: number; readonly timing: Timing; readonly concurrency: number; readonly retry: boolean } & Failing)
  | ({ readonly op: "do"; readonly timing: Timing; readonly concurrency: number } & Failing)
  | ({ readonly op: "filter"; readonly m: number; readonly r: number; readonly timing: Timing } & Failing)
  | { readonly op: "take"; readonly n: number }
  | ({ readonly op: "takeUntil"; readonly m: number; readonly r: number } & Failing)
  | { readonly op: "skip"; readonly n: number }
  | ({ readonly op: "skipUntil"; readonly m: number; readonly r: number } & Failing)
  | { readonly op: "catch"; readonly how: "all" | "replace" | "sourceOnly" | "stop" | "finallyThrow" }
  /** `flatten`: 0 leaves the groups, n > 0 flattens them back with `concurrency: n`. */
  | { readonly op: "group"; readonly upTo: number; readonly flatten: number }
  | ({ readonly op: "groupBy"; readonly upTo: number; readonly keys: number; readonly timing: Timing } & Failing)
  | { readonly op: "observe"; readonly every: number | "1s" | undefined; readonly asyncDo: boolean }
  | { readonly op: "buffer"; readonly upTo: number }
  | { readonly op: "throttle"; readonly upTo: number }
  | { readonly op: "concat"; readonly items: readonly number[]; readonly async: boolean };

/** A number that stands for any value the pipeline carries: numbers, groups, and [key, group] pairs. */
function digest(x: unknown): number {
  if (typeof x === "number") return x;
  if (Array.isArray(x)) return x.reduce((sum: number, y) => sum + digest(y), x.length);
  return 0;
}

const fails = (f: Failing, x: unknown) => f.failMod > 0 && digest(x) % f.failMod === f.failRes % f.failMod;
const failure = (label: string, x: unknown) => new Error(`${label}:${digest(x)}`);

/** `f` as `timing` says: as it is, always through a promise a few microtasks later, or through one for odd digests. */
/** Calls of `map`/`do` callbacks that started once their iteration's signal was aborted (closing had begun). */
let startedAfterClose = 0;

function timed<A, R>(timing: Timing, f: (x: A) => R): (x: A, options?: { signal?: AbortSignal }) => R | Promise<R> {
  return (x: A, options?: { signal?: AbortSignal }) => {
    if (options?.signal?.aborted) startedAfterClose++;
    if (timing === "sync") return f(x);
    if (timing === "mixed" && digest(x) % 2 === 0) return f(x);
    let later = Promise.resolve();
    for (let i = digest(x) % 3; i > 0; i--) later = later.then();
    return later.then(() => f(x));
  };
}

/** Op `i`'s callbacks, shared by the stream and the model so both call the same code. */
function callbacks(op: Op, i: number) {
  const label = `${op.op}${i}`;
  const check = (f: Failing, x: unknown) => {
    if (fails(f, x)) throw failure(label, x);
  };
  switch (op.op) {
    case "map":
      return { fn: (x: unknown) => (check(op, x), (digest(x) * 3 + op.k) % 101) };
    case "do":
      return { fn: (x: unknown) => void check(op, x) };
    case "filter":
      return { fn: (x: unknown) => (check(op, x), digest(x) % op.m !== op.r % op.m) };
    case "takeUntil":
    case "skipUntil":
      return { fn: (x: unknown) => (check(op, x), digest(x) % op.m === op.r % op.m) };
    case "groupBy":
      return { fn: (x: unknown) => (check(op, x), digest(x) % op.keys) };
    default:
      return { fn: (x: unknown) => x };
  }
}

const timing = fc.constantFrom<Timing>("sync", "async", "mixed");
const failing = { failMod: fc.constantFrom(0, 0, 5, 7), failRes: fc.nat(6) };
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("map" as const), k: fc.nat(20), timing, concurrency: fc.constantFrom(1, 1, 2, 3), retry: fc.constantFrom(false, false, true), ...failing }) },
  fc.record({ op: fc.constant("do" as const), timing, concurrency: fc.constantFrom(1, 2), ...failing }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("filter" as const), m: fc.integer({ min: 2, max: 4 }), r: fc.nat(3), timing, ...failing }) },
  fc.record({ op: fc.constant("take" as const), n: fc.nat(25) }),
  fc.record({ op: fc.constant("takeUntil" as const), m: fc.integer({ min: 5, max: 13 }), r: fc.nat(12), ...failing }),
  fc.record({ op: fc.constant("skip" as const), n: fc.nat(10) }),
  fc.record({ op: fc.constant("skipUntil" as const), m: fc.integer({ min: 2, max: 9 }), r: fc.nat(8), ...failing }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("catch" as const), how: fc.constantFrom("all" as const, "replace" as const, "sourceOnly" as const, "stop" as const, "finallyThrow" as const) }) },
  fc.record({ op: fc.constant("group" as const), upTo: fc.integer({ min: 1, max: 5 }), flatten: fc.constantFrom(0, 0, 1, 1, 2, 3) }),
  fc.record({ op: fc.constant("groupBy" as const), upTo: fc.integer({ min: 1, max: 4 }), keys: fc.integer({ min: 1, max: 3 }), timing, ...failing }),
  fc.record({ op: fc.constant("observe" as const), every: fc.constantFrom(undefined, 3, "1s" as const), asyncDo: fc.boolean() }),
  fc.record({ op: fc.constant("buffer" as const), upTo: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant("throttle" as const), upTo: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant("concat" as const), items: fc.array(fc.nat(40), { maxLength: 5 }), async: fc.boolean() }),
);

type SourceKind = "array" | "iterable" | "async iterable" | "async generator";
/** A source: numbers, and (except in an array or a generator, which ends when it throws) failures where its `next()` throws. */
const sourceArbitrary = fc.record({
  kind: fc.constantFrom<SourceKind>("array", "iterable", "async iterable", "async generator"),
  items: fc.array(fc.oneof({ weight: 6, arbitrary: fc.nat(40) }, { weight: 1, arbitrary: fc.constant(-1) }), { maxLength: 40 }),
});
type SourceSpec = { kind: SourceKind; items: number[] };
const itemsOf = (s: SourceSpec): (number | Failure)[] =>
  s.kind === "array" || s.kind === "async generator" ? s.items.filter((x) => x >= 0) : s.items.map((x, i) => (x < 0 ? fail(`source${i}`) : x));

// ---- The model: each op as a function of the whole list of events ----

function modelOf(source: SourceSpec, ops: readonly Op[]): Event[] {
  let events: Event[] = itemsOf(source).map((x) => (typeof x === "number" ? { value: x } : { error: x.message }));
  ops.forEach((op, i) => (events = modelOp(op, callbacks(op, i).fn, events)));
  return events;
}

/** Runs `f` on an element: its result, or the error it threw as an event. */
function attempt(f: (x: unknown) => unknown, x: unknown): { ok: true; result: unknown } | { ok: false; error: Event } {
  try {
    return { ok: true, result: f(x) };
  } catch (e) {
    return { ok: false, error: { error: (e as Error).message } };
  }
}

function modelOp(op: Op, fn: (x: unknown) => unknown, events: Event[]): Event[] {
  const out: Event[] = [];
  switch (op.op) {
    case "map":
    case "do":
    case "filter":
      for (const e of events) {
        if ("error" in e) {
          out.push(e);
          continue;
        }
        const r = attempt(fn, e.value);
        if (!r.ok) out.push(r.error);
        else if (op.op === "map") out.push({ value: r.result });
        else if (op.op === "do" || r.result) out.push(e);
      }
      return out;
    case "take": {
      let taken = 0;
      for (const e of events) {
        if (taken >= op.n) break;
        out.push(e);
        if ("value" in e) taken++;
      }
      return out;
    }
    case "takeUntil":
      for (const e of events) {
        if ("error" in e) out.push(e);
        else {
          const r = attempt(fn, e.value);
          if (!r.ok) out.push(r.error);
          else if (r.result) break;
          else out.push(e);
        }
      }
      return out;
    case "skip": {
      let skipped = 0;
      for (const e of events) {
        if ("value" in e && skipped < op.n) skipped++;
        else out.push(e);
      }
      return out;
    }
    case "skipUntil": {
      let started = false;
      for (const e of events) {
        if ("error" in e || started) out.push(e);
        else {
          const r = attempt(fn, e.value);
          if (!r.ok) out.push(r.error);
          else if (r.result) (started = true), out.push(e);
        }
      }
      return out;
    }
    case "catch": {
      let first: Event | undefined;
      for (const e of events) {
        if ("value" in e || (op.how === "sourceOnly" && !e.error.startsWith("source"))) {
          out.push(e);
          continue;
        }
        first ??= e;
        if (op.how === "replace") out.push({ value: -2 });
        if (op.how === "stop") break;
      }
      if (op.how === "finallyThrow" && first) out.push(first);
      return out;
    }
    case "group": {
      let pending: unknown[] = [];
      const flush = () => {
        if (pending.length > 0) out.push({ value: pending });
        pending = [];
      };
      for (const e of events) {
        if ("error" in e) flush(), out.push(e);
        else if (pending.push(e.value) === op.upTo) flush();
      }
      flush();
      return op.flatten > 0 ? flattenModel(out, op.flatten) : out;
    }
    case "groupBy": {
      const pending = new Map<unknown, unknown[]>();
      const flushAll = () => {
        for (const [key, group] of pending) out.push({ value: [key, group] });
        pending.clear();
      };
      for (const e of events) {
        if ("error" in e) {
          flushAll(), out.push(e);
          continue;
        }
        const r = attempt(fn, e.value);
        if (!r.ok) {
          flushAll(), out.push(r.error);
          continue;
        }
        const group = pending.get(r.result) ?? [];
        pending.set(r.result, group);
        if (group.push(e.value) === op.upTo) out.push({ value: [r.result, group] }), pending.delete(r.result);
      }
      flushAll();
      return out;
    }
    case "observe":
    case "buffer":
    case "throttle":
      return events;
    case "concat":
      return [...events, ...op.items.map((value) => ({ value }))];
  }
}

/**
 * `flatten({ concurrency })` over events whose values are arrays (SEMANTICS.md 2.3): up to `concurrency` slots,
 * read in turn one element at a time; a slot whose array is used up is dropped and the next upstream event takes
 * its place at the tail; an upstream error takes a place too and comes out in its turn.
 */
function flattenModel(events: readonly Event[], concurrency: number): Event[] {
  const out: Event[] = [];
  type Slot = { readonly items: readonly unknown[]; next: number } | { readonly error: Event };
  const slots: Slot[] = [];
  let upstream = 0;
  const refill = () => {
    while (slots.length < concurrency && upstream < events.length) {
      const e = events[upstream++]!;
      slots.push("error" in e ? { error: e } : { items: e.value as unknown[], next: 0 });
    }
  };
  refill();
  for (let slot = slots.shift(); slot !== undefined; slot = slots.shift()) {
    if ("error" in slot) {
      refill();
      out.push(slot.error);
    } else if (slot.next < slot.items.length) {
      out.push({ value: slot.items[slot.next++] });
      slots.push(slot);
    } else refill();
  }
  return out;
}

// ---- The same pipeline as a stream ----

function streamOf(source: SourceSpec, ops: readonly Op[]): { s: Stream<unknown>; counter: CountingSource<number> | undefined } {
  const items = itemsOf(source);
  const counter = source.kind === "array" || source.kind === "async generator" ? undefined : new CountingSource(items);
  let s: Stream<unknown> = stream<number>(
    source.kind === "array" ? (items as number[])
    : source.kind === "async generator" ? generate(items as number[])
    : source.kind === "iterable" ? counter!.sync()
    : counter!.async(),
  );
  ops.forEach((op, i) => {
    const { fn } = callbacks(op, i);
    switch (op.op) {
      case "map":
        s =
          op.retry ?
            s.map(timed(op.timing, failingOnceEach(fn)), { concurrency: op.concurrency, retry: { attempts: 2 } })
          : s.map(timed(op.timing, fn), { concurrency: op.concurrency });
        break;
      case "do":
        s = s.do(timed(op.timing, fn), { concurrency: op.concurrency });
        break;
      case "filter":
        s = s.filter(timed(op.timing, fn));
        break;
      case "take":
        s = s.take(op.n);
        break;
      case "takeUntil":
        s = s.take(fn);
        break;
      case "skip":
        s = s.skip(op.n);
        break;
      case "skipUntil":
        s = s.skip(fn);
        break;
      case "catch":
        s =
          op.how === "all" ? s.catch()
          : op.how === "replace" ? s.catch({ replace: () => -2 })
          : op.how === "sourceOnly" ? s.catch({ where: (e) => (e as Error).message.startsWith("source") })
          : op.how === "stop" ? s.catch({ stop: true })
          : s.catch({ finallyThrow: true });
        break;
      case "group":
        s = s.group(op.upTo);
        if (op.flatten > 0) s = (s as Stream<unknown[]>).flatten({ concurrency: op.flatten });
        break;
      case "groupBy":
        s = s.group({ upTo: op.upTo, by: timed(op.timing, fn) });
        break;
      case "observe":
        {
          // An async `do` holds each element back until it settles.
          const report = op.asyncDo ? () => Promise.resolve() : () => {};
          s = s.observe("elements", op.every === undefined ? { do: report } : { every: op.every, do: report });
        }
        break;
      case "buffer":
        s = s.buffer(op.upTo);
        break;
      case "throttle":
        s = s.throttle(op.upTo, { per: "1s" });
        break;
      case "concat":
        s = s.concat(op.async ? generate(op.items) : op.items);
        break;
    }
  });
  return { s, counter };
}

/**
 * `fn` with a passing failure ("retry now") on its first call for each distinct value: every element fails at
 * most once that way, so a retry with two attempts leaves the model's output unchanged, and an element that
 * `fn` itself fails still comes out with `fn`'s error, from the last attempt.
 */
function failingOnceEach(fn: (x: unknown) => unknown): (x: unknown) => unknown {
  const failed = new Set<number>();
  return (x) => {
    if (failed.has(digest(x))) return fn(x);
    failed.add(digest(x));
    throw Object.assign(new Error("503"), { retryAfter: 0 });
  };
}

async function* generate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Whether sync iteration can run it: a sync source, only sync callbacks, no async-only op. */
const runsSync = (source: SourceSpec, ops: readonly Op[]) =>
  (source.kind === "array" || source.kind === "iterable") &&
  ops.every(
    (op) =>
      op.op !== "buffer" && op.op !== "throttle" && !(op.op === "observe" && (op.every === "1s" || op.asyncDo)) && !(op.op === "map" && op.retry) && !(op.op === "concat" && op.async) && (!("timing" in op) || op.timing === "sync"),
  );

/** The options of an async run: the clock that ends each wait on the next turn of the event loop. */
const onClock = () => ({ clock: new SkippingClock() });

const asEvents = (out: readonly unknown[]): Event[] => out.map((x) => (isThrown(x) ? { error: x.error } : { value: x }));
const isThrown = (x: unknown): x is Thrown => typeof x === "object" && x !== null && !Array.isArray(x) && "error" in x;

/** Every element and error of an async iterator, asking for `width` answers at a time before awaiting them. */
async function drainAhead(it: AsyncIterator<unknown>, width: number): Promise<Event[]> {
  const out: Event[] = [];
  for (;;) {
    const calls = Array.from({ length: width }, () => it.next());
    const answers = await Promise.allSettled(calls);
    let ended = false;
    for (const a of answers) {
      if (a.status === "rejected") assert.ok(!ended, "an error after the end"), out.push({ error: (a.reason as Error).message });
      else if (a.value.done) ended = true;
      else assert.ok(!ended, "an element after the end"), out.push({ value: a.value.value });
    }
    if (ended) return out;
  }
}

/** A source may be left open only when everything was pulled from it; it is never closed twice. */
function assertClosedOnce(counter: CountingSource<number> | undefined, source: SourceSpec, how: string): void {
  if (counter === undefined) return;
  assert.ok(counter.returns <= 1, `${how}: the source was closed ${counter.returns} times`);
  if (counter.pulls < itemsOf(source).length) assert.equal(counter.returns, 1, `${how}: the source was left open`);
}

const pipelines = fc.record({ source: sourceArbitrary, ops: fc.array(opArbitrary, { minLength: 1, maxLength: 6 }) });
/** `DIFFERENTIAL_RUNS=20000 node --import tsx --test test/differential.test.ts` searches longer. */
const numRuns = Number(process.env.DIFFERENTIAL_RUNS ?? 400);

test("differential: sync iteration and for await give the model's elements and errors, in order", async () => {
  await fc.assert(
    fc.asyncProperty(pipelines, async ({ source, ops }) => {
      const expected = modelOf(source, ops);
      if (runsSync(source, ops)) assert.deepEqual(asEvents(drainSync((streamOf(source, ops).s as SyncStream<unknown>).iterate({ afterError: "resume" }))), expected, "sync iteration");
      const one = streamOf(source, ops);
      assert.deepEqual(asEvents(await drainAsync(one.s.iterateAsync({ ...onClock(), afterError: "resume" }))), expected, "for await");
      const ahead = streamOf(source, ops);
      assert.deepEqual(await drainAhead(ahead.s.iterateAsync({ ...onClock(), afterError: "resume" }), 3), expected, "three calls at a time");
    }),
    { numRuns },
  );
});

test("differential: terminals give the model's elements up to its first error, which rejects them and closes the source", async () => {
  await fc.assert(
    fc.asyncProperty(pipelines, async ({ source, ops }) => {
      const expected = modelOf(source, ops);
      const firstError = expected.find((e) => "error" in e) as { error: string } | undefined;
      const values = expected.filter((e) => "value" in e).map((e) => (e as { value: unknown }).value);
      const terminals: [string, (s: Stream<unknown>) => Promise<unknown>, unknown][] = [
        ["toArray", (s) => s.toArray(onClock()), values],
        ["count", (s) => s.count(onClock()), values.length],
        ["run", (s) => s.run(onClock()), undefined],
        ["reduce", (s) => s.reduce((sum: number, x) => (digest(x) % 2 ? Promise.resolve(sum + digest(x)) : sum + digest(x)), 0, onClock()), values.reduce((sum: number, x) => sum + digest(x), 0)],
      ];
      for (const [name, run, result] of terminals) {
        const { s, counter } = streamOf(source, ops);
        if (firstError === undefined) assert.deepEqual(await run(s), result, name);
        else {
          await assert.rejects(run(s), (e: Error) => e.message === firstError.error, `${name} rejects with the first error`);
          assertClosedOnce(counter, source, name);
        }
      }
    }),
    { numRuns },
  );
});

test("differential: leaving early gives a prefix of the model's events and closes the source once", async () => {
  await fc.assert(
    fc.asyncProperty(pipelines, fc.nat(12), async ({ source, ops }, limit) => {
      const expected = modelOf(source, ops);
      fc.pre(limit < expected.length);
      const { s, counter } = streamOf(source, ops);
      startedAfterClose = 0;
      const it = s.iterateAsync({ ...onClock(), afterError: "resume" });
      const out = asEvents(await drainAsync(it, limit));
      assert.deepEqual(out, expected.slice(0, limit));
      assertClosedOnce(counter, source, "return()");
      await it.return?.();
      assertClosedOnce(counter, source, "a second return()");
      assert.equal(startedAfterClose, 0, "no call starts once closing has begun");
      if (runsSync(source, ops)) {
        const sync = streamOf(source, ops);
        assert.deepEqual(asEvents(drainSync((sync.s as SyncStream<unknown>).iterate({ afterError: "resume" }), limit)), expected.slice(0, limit), "sync");
        assertClosedOnce(sync.counter, source, "sync return()");
      }
    }),
    { numRuns },
  );
});

test("differential: a loop left by an error gives the model's elements before it, closes the source once and starts no call after", async () => {
  await fc.assert(
    fc.asyncProperty(pipelines, async ({ source, ops }) => {
      const expected = modelOf(source, ops);
      const first = expected.findIndex((e) => "error" in e);
      fc.pre(first >= 0);
      const before = expected.slice(0, first);
      const error = (expected[first] as { error: string }).error;
      const loops: [string, () => Promise<{ out: Event[]; counter: CountingSource<number> | undefined; after: () => unknown }>][] = [
        [
          "for await",
          async () => {
            const { s, counter } = streamOf(source, ops);
            const it = s.iterateAsync(onClock());
            const out: Event[] = [];
            await assert.rejects(async () => {
              for await (const value of it) out.push({ value });
            }, (e: Error) => e.message === error);
            return { out, counter, after: () => it.next() };
          },
        ],
      ];
      if (runsSync(source, ops)) {
        loops.push([
          "for ... of",
          async () => {
            const { s, counter } = streamOf(source, ops);
            const it = (s as SyncStream<unknown>).iterate();
            const out: Event[] = [];
            assert.throws(() => {
              for (const value of it) out.push({ value });
            }, (e: Error) => e.message === error);
            return { out, counter, after: () => it.next() };
          },
        ]);
      }
      for (const [how, loop] of loops) {
        startedAfterClose = 0;
        const { out, counter, after } = await loop();
        assert.deepEqual(out, before, `${how}: the elements before the error`);
        if (counter !== undefined) assert.equal(counter.returns, counter.pulls < itemsOf(source).length ? 1 : counter.returns, `${how}: closed`);
        assertClosedOnce(counter, source, how);
        assert.deepEqual(await after(), { done: true, value: undefined }, `${how}: done after the error`);
        assertClosedOnce(counter, source, `${how}, then next()`);
        assert.equal(startedAfterClose, 0, `${how}: no call starts once closing has begun`);
      }
    }),
    { numRuns },
  );
});

test("differential: an abort during a terminal rejects it with the signal's reason at once and closes the source once", async () => {
  await fc.assert(
    fc.asyncProperty(pipelines, fc.nat(10), async ({ source, ops }, after) => {
      const values = modelOf(source, ops).filter((e) => "value" in e);
      fc.pre(after < values.length);
      const { s, counter } = streamOf(source, ops);
      const stop = new AbortController();
      const reason = new Error("stopped");
      let seen = 0;
      const abortAfter = () => void (++seen > after && stop.abort(reason));
      // Errors are caught at the end, so only the abort can reject the run.
      await assert.rejects(s.catch().do(abortAfter).run({ ...onClock(), signal: stop.signal }), (e) => e === reason);
      assert.equal(seen, after + 1, "no element after the abort");
      assertClosedOnce(counter, source, "abort");
    }),
    { numRuns },
  );
});
