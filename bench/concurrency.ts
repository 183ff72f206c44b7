/** W5-W6: concurrent map against a hand-written pool and the peers, ordered and as completed. */
import { Readable } from "node:stream";
import { Effect, Stream as EffectStream } from "effect";
import pMap, { pMapIterable } from "p-map";
import { parallelMap, transform } from "streaming-iterables";
import { stream } from "streamable-ts";
import { compete, integers, rounds, table, target } from "./harness.js";

/** n workers sharing one iterator, results dropped: the least a pool can do by hand (a forEach, not a map). */
async function handPool<T>(items: Iterable<T>, concurrency: number, fn: (x: T) => Promise<unknown>): Promise<number> {
  const it = items[Symbol.iterator]();
  let count = 0;
  const worker = async () => {
    for (let r = it.next(); !r.done; r = it.next()) {
      await fn(r.value);
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count;
}

/**
 * n workers sharing one iterator, each result handed to a `for await` consumer
 * as it completes, at most n results waiting: a map stage written by hand, the
 * shape of every peer here and of ours.
 */
async function* handPoolStream<T, U>(items: Iterable<T>, concurrency: number, fn: (x: T) => Promise<U>): AsyncGenerator<U> {
  const it = items[Symbol.iterator]();
  const ready: U[] = [];
  let head = 0;
  let running = concurrency;
  let wake: (() => void) | undefined;
  const blocked: (() => void)[] = [];
  const wakeConsumer = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const worker = async () => {
    for (let r = it.next(); !r.done; r = it.next()) {
      const value = await fn(r.value);
      while (ready.length - head >= concurrency) await new Promise<void>((resolve) => blocked.push(resolve));
      ready.push(value);
      wakeConsumer();
    }
    running--;
    wakeConsumer();
  };
  for (let i = 0; i < concurrency; i++) void worker();
  for (;;) {
    while (head < ready.length) {
      const value = ready[head++]!;
      if (head === ready.length) ready.length = head = 0;
      blocked.shift()?.();
      yield value;
    }
    if (running === 0) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

async function drain(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

/** The same pool, keeping each result at its element's index: what an ordered map must deliver. */
async function handPoolInOrder<T, U>(items: readonly T[], concurrency: number, fn: (x: T) => Promise<U>): Promise<U[]> {
  const results: U[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

type Contestant = [name: string, run: (n: number, c: number, fn: (x: number) => Promise<number>) => Promise<unknown>];

const contestants: Contestant[] = [
  ["hand-written pool, results in order", (n, c, fn) => handPoolInOrder(integers(n), c, fn)],
  ["streamable-ts ordered", (n, c, fn) => stream(integers(n)).map(fn, { concurrency: c }).count()],
  ["streamable-ts ordered toArray()", (n, c, fn) => stream(integers(n)).map(fn, { concurrency: c }).toArray()],
  ["streamable-ts asCompleted", (n, c, fn) => stream(integers(n)).map(fn, { concurrency: c, asCompleted: true }).count()],
  ["hand-written pool into for await", (n, c, fn) => drain(handPoolStream(integers(n), c, fn))],
  ["hand-written pool, results dropped", (n, c, fn) => handPool(integers(n), c, fn)],
  ["p-map", (n, c, fn) => pMap(integers(n), fn, { concurrency: c })],
  ["p-map pMapIterable", (n, c, fn) => drain(pMapIterable(integers(n), fn, { concurrency: c }))],
  ["streaming-iterables parallelMap", (n, c, fn) => drain(parallelMap(c, fn, integers(n)))],
  ["streaming-iterables transform", (n, c, fn) => drain(transform(c, fn, integers(n)))],
  ["Node Readable.map", (n, c, fn) => drain(Readable.from(integers(n)).map(fn, { concurrency: c }))],
  [
    "Effect Stream.mapEffect",
    (n, c, fn) =>
      Effect.runPromise(EffectStream.fromIterable(integers(n)).pipe(EffectStream.mapEffect((x) => Effect.promise(() => fn(x)), { concurrency: c }), EffectStream.runCollect)),
  ],
];

/** W6 at one size for every contestant: Effect's `mapEffect` runs about 0.1 M/s here, 3 s a run. */
const w6Size = 300_000;

export async function concurrency(): Promise<void> {
  // W5: 2,000 calls awaiting a 5 ms timer, 50 at a time: wall time, ideally 2000 / 50 * 5 ms = 200 ms.
  const sleep5 = (x: number) => new Promise<number>((resolve) => setTimeout(resolve, 5, x));
  const w5 = await compete(
    contestants.map(([name, run]) => ({ name, run: (n: number) => run(n, 50, sleep5) })),
    2_000,
  );
  console.log(`\nW5 2,000 calls of a 5 ms timer, concurrency 50 (ideal 200 ms), median of ${rounds} rounds (fastest-slowest)`);
  const width = Math.max(...w5.map((r) => r.name.length));
  for (const r of w5) {
    const ms = (rate: number) => ((2_000 / rate) * 1000).toFixed(0);
    console.log(`  ${r.name.padEnd(width)} ${r.ms.toFixed(0).padStart(5)} ms (${ms(r.fastest)}-${ms(r.slowest)})  ${(r.ms / 200).toFixed(2)}x ideal`);
  }
  // Against the fastest of the hand-written pools: the timers dominate, the pool's shape hardly shows.
  const msOf = (name: string) => w5.find((r) => r.name === name)!.ms;
  const pool = Math.min(...w5.filter((r) => r.name.startsWith("hand-written")).map((r) => r.ms));
  for (const mode of ["ordered", "asCompleted"]) {
    const ratio = msOf(`streamable-ts ${mode}`) / pool;
    target(`W5 ${mode} within 1.05x of a hand-written pool`, ratio <= 1.05, `${ratio.toFixed(3)}x`);
  }

  // W6: an async identity callback, 8 at a time: the engine's own cost per element, against
  // the least a pool that keeps its results in order does by hand.
  const identity = async (x: number) => x;
  const w6 = await compete(
    contestants.map(([name, run]) => ({ name, run: (n: number) => run(n, 8, identity) })),
    w6Size,
  );
  const baseline = "hand-written pool, results in order";
  table("W6 async identity, concurrency 8", w6, baseline);
  const rate = (name: string) => w6.find((r) => r.name === name)!.perSecond;
  const cost = (name: string, base = baseline) => rate(base) / rate(name);
  for (const row of ["ordered", "ordered toArray()", "asCompleted"]) {
    const ratio = cost(`streamable-ts ${row}`);
    target(`W6 ${row} per-element cost at most 1.5x a hand-written pool that keeps results in order`, ratio <= 1.5, `${ratio.toFixed(2)}x`);
  }
  const us = (name: string) => ((1 / rate(name)) * 1e6).toFixed(2);
  console.log(`  info per element: ours ordered ${us("streamable-ts ordered")} µs, the pool in order ${us(baseline)} µs, into for await ${us("hand-written pool into for await")} µs, results dropped ${us("hand-written pool, results dropped")} µs`);
}
