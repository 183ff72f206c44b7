import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type Observation } from "streamable-ts";
import { formatDuration } from "../src/operators/observe.js";
import { ManualClock, runOnClock, settle } from "./support/clock.js";
import { CountingSource, err, fail, forEachMode } from "./support/modes.js";

const counts = (seen: Observation[]) => seen.map((o) => [o.errors, o.elements]);

forEachMode("observe reports at 1, 2, 4, 8 elements and at the end, passing elements through", async (mode) => {
  const seen: Observation[] = [];
  const s = stream(mode.source([...Array(10).keys()]).iterable).observe("ints", { do: mode.fn((o: Observation) => void seen.push(o)) });
  assert.deepEqual(await mode.collect(s), [...Array(10).keys()]);
  assert.deepEqual(counts(seen), [[0, 1], [0, 2], [0, 4], [0, 8], [0, 10]]);
  assert.ok(seen.every((o) => o.subject === "ints"), "every observation names its subject");
});

forEachMode("observe counts errors on their own schedule and lets them through", async (mode) => {
  const seen: Observation[] = [];
  const items = [1, 2, fail("a"), 3, fail("b"), fail("c"), 4, 5];
  const s = stream(mode.source(items).iterable).observe("ints", { do: (o) => void seen.push(o) });
  assert.deepEqual(await mode.collect(s), [1, 2, err("a"), 3, err("b"), err("c"), 4, 5]);
  assert.deepEqual(counts(seen), [[0, 1], [0, 2], [1, 2], [2, 3], [3, 4], [3, 5]]);
});

forEachMode("observe `every: n` reports at 1, n, 2n, ... with no redundant final report", async (mode) => {
  const seen: Observation[] = [];
  await mode.collect(stream(mode.source([...Array(9).keys()]).iterable).observe("x", { every: 3, do: (o) => void seen.push(o) }));
  assert.deepEqual(counts(seen), [[0, 1], [0, 3], [0, 6], [0, 9]]);
});

forEachMode("observe reports an empty stream once", async (mode) => {
  const seen: Observation[] = [];
  await mode.collect(stream(mode.source<number>([]).iterable).observe("x", { do: (o) => void seen.push(o) }));
  assert.deepEqual(counts(seen), [[0, 0]]);
});

forEachMode("observe ignores errors thrown by `do`", async (mode) => {
  const s = stream(mode.source([1, 2]).iterable).observe("x", {
    do: mode.fn(() => {
      throw new Error("logger down");
    }),
  });
  assert.deepEqual(await mode.collect(s), [1, 2]);
});

test("observe measures elapsed time from the first pull, on the run's clock", async () => {
  const clock = new ManualClock();
  await clock.advance(500); // time before the first pull does not count
  const seen: Observation[] = [];
  const it = stream([1, 2]).observe("x", { do: (o) => void seen.push(o) }).iterateAsync({ clock });
  await it.next();
  await clock.advance(1_500);
  await it.next();
  await it.next();
  assert.deepEqual(seen.map((o) => o.elapsed), [0, 1_500]);
  assert.equal(String(seen[1]), "observed=x elapsed=1.5s errors=0 elements=2");
});

test("observe logs one logfmt line on stderr by default, with a UTC timestamp", async () => {
  const lines: string[] = [];
  const original = console.error;
  console.error = (line: string) => void lines.push(line);
  try {
    [...stream([1]).observe("user batches")];
  } finally {
    console.error = original;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO observed="user batches" elapsed=\S+ errors=0 elements=1$/);
});

test("observation text escapes the subject as logfmt", () => {
  const text = (subject: string) => {
    let line = "";
    [...stream([1]).observe(subject, { do: (o) => void (line = String(o)) })];
    return line;
  };
  assert.match(text("ints"), /^observed=ints elapsed=/);
  assert.match(text(""), /^observed="" elapsed=/);
  assert.match(text("a=b"), /^observed="a=b" elapsed=/);
  assert.match(text('a"b\\c'), /^observed="a\\"b\\\\c" elapsed=/);
});

test("observation durations read as Go writes them", () => {
  const cases: [number, string][] = [[0, "0µs"], [0.25, "250µs"], [12.5, "12.5ms"], [3021, "3.021s"], [125_500, "2m5.5s"], [3_603_000, "1h0m3s"]];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text);
});

test("observe: bad arguments throw when the pipeline is built", () => {
  assert.throws(() => stream([1]).observe(3 as never), { message: "`subject` must be a string, got 3" });
  assert.throws(() => stream([1]).observe("x", { every: 0 }), { name: "RangeError", message: "`every` must be an integer >= 1, got 0" });
});

test("observe `every` duration: reports at the start, then every period whatever the counts, then at the end", async () => {
  const clock = new ManualClock();
  const seen: [number, number][] = [];
  const source = {
    async *[Symbol.asyncIterator]() {
      for (const i of [1, 2, 3]) {
        await clock.sleep(700);
        yield i;
      }
    },
  };
  const s = stream(source).observe("slow", { every: "1s", do: (o) => void seen.push([clock.now(), o.elements]) });
  await runOnClock(clock, s.run({ clock }));
  assert.deepEqual(seen, [[0, 0], [1000, 1], [2000, 2], [2100, 3]]);
  assert.equal(clock.pendingTimers, 0, "the ticker stops at the end");
});

test("observe `every` duration: an empty stream reports twice (start and end); leaving early stops the ticker", async () => {
  const clock = new ManualClock();
  const seen: number[] = [];
  await stream([] as number[]).observe("x", { every: "1m", do: (o) => void seen.push(o.elements) }).run({ clock });
  assert.deepEqual(seen, [0, 0]);
  assert.equal(clock.pendingTimers, 0);
  const it = stream([1, 2, 3]).observe("x", { every: "1m", do: () => {} }).iterateAsync({ clock });
  await it.next();
  assert.equal(clock.pendingTimers, 1);
  await it.return!();
  await settle();
  assert.equal(clock.pendingTimers, 0);
});

test("observe `every` duration runs only in async iteration; explain shows it", () => {
  const s = stream([1]).observe("x", { every: "30s" });
  assert.throws(() => [...(s as unknown as Iterable<number>)], /observe\("x", \{ every: "30s" \}\) runs only in async iteration/);
  assert.throws(() => stream([1]).observe("x", { every: "0s" }), /`every` must be a positive duration/);
});

test("observe under a terminal: upstream pushes the elements that are ready; an async `do` still holds each element back until it settles", async () => {
  const counter = new CountingSource([1, 2, 3]);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const reports: number[] = [];
  const done = stream(counter.sync())
    .map((x) => x * 10)
    .observe("rows", { every: 1, do: (o) => (reports.push(o.elements), o.elements === 1 ? held : undefined) })
    .toArray();
  await settle();
  assert.equal(counter.pulls, 1, "nothing more is pulled while `do` holds the first element back");
  release();
  assert.deepEqual(await done, [10, 20, 30]);
  assert.deepEqual(reports, [1, 2, 3]);
  const counted: [number, number][] = [];
  const failing = (x: number) => {
    if (x === 2) throw new Error("bad");
    return x;
  };
  await stream([1, 2, 3])
    .map(failing)
    .observe("rows", { do: (o) => void counted.push([o.elements, o.errors]) })
    .catch()
    .run();
  assert.deepEqual(counted, [[1, 0], [1, 1], [2, 1]]);
});
