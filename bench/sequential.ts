/** W1-W3: the sequential pipeline filter(odd).map(String), sync and async, against a hand loop and the peers (W3 in w3.ts). */
import { Readable } from "node:stream";
import { Effect, Stream as EffectStream } from "effect";
import { from as ixFrom } from "ix/Ix.iterable";
import { filter as ixFilter, map as ixMap } from "ix/Ix.iterable.operators";
import { from as ixFromAsync } from "ix/Ix.asynciterable";
import { filter as ixFilterAsync, map as ixMapAsync } from "ix/Ix.asynciterable.operators";
import { filter as siFilter, map as siMap } from "streaming-iterables";
import { stream } from "streamable-ts";
import { compete, integers, table, target } from "./harness.js";
import { w3 } from "./w3.js";

const odd = (x: number) => (x & 1) === 1;
/** W1 as the issue names it: 10^7 integers; every row takes under a second per run there. */
const w1Size = 10_000_000;
/**
 * W2 at 10^6 (the issue says 10^7): every row runs at one size, and the rows bound by a promise per
 * element (IxJS's AsyncIterable, `Readable`) take 3 s a run here at 10^6, 30 s at 10^7.
 */
const w2Size = 1_000_000;

async function* filterGen<T>(source: AsyncIterable<T> | Iterable<T>, f: (x: T) => boolean) {
  for await (const x of source) if (f(x)) yield x;
}
async function* mapGen<T, U>(source: AsyncIterable<T>, f: (x: T) => U) {
  for await (const x of source) yield f(x);
}
async function drainAsync(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

export async function sequential(): Promise<void> {
  // W1: sync iteration. Interleaved rounds at one size (see `compete`): a slow spell of a
  // shared machine falls on every row, not on whichever ran during it. Every loop keeps its last
  // string: the optimiser may drop a `String(x)` whose result goes unused.
  const w1 = await compete(
    [
      {
        name: "hand-written for loop",
        run: (n) => {
          const a = integers(n);
          let count = 0;
          let last = "";
          for (let i = 0; i < a.length; i++) {
            const x = a[i]!;
            if (odd(x)) {
              last = String(x);
              count++;
            }
          }
          return count + last.length;
        },
      },
      {
        name: "streamable-ts for...of",
        run: (n) => {
          let count = 0;
          let last = "";
          for (const s of stream(integers(n)).filter(odd).map(String)) {
            last = s;
            count++;
          }
          return count + last.length;
        },
      },
      {
        name: "IxJS Iterable",
        run: (n) => {
          let count = 0;
          let last = "";
          for (const s of ixFrom(integers(n)).pipe(ixFilter(odd), ixMap(String))) {
            last = s;
            count++;
          }
          return count + last.length;
        },
      },
    ],
    w1Size,
  );
  table("W1 filter(odd).map(String), sync iteration", w1, "hand-written for loop");
  const w1ratio = w1[1]!.perSecond / w1[0]!.perSecond;
  target("W1 >= 0.7x a hand-written loop", w1ratio >= 0.7, `${w1ratio.toFixed(2)}x`);

  // W2: the same pipeline consumed asynchronously. Rows that keep their output (`toArray`, a loop
  // into an array, `runCollect`) are checked element by element against each other.
  const pipeline = (n: number) => stream(integers(n)).filter(odd).map(String);
  const w2 = await compete(
    [
      { name: "async generator per stage", run: (n) => drainAsync(mapGen(filterGen(integers(n), odd), String)) },
      { name: "streamable-ts for await", run: (n) => drainAsync(pipeline(n)) },
      { name: "streamable-ts count()", run: (n) => pipeline(n).count() },
      { name: "streamable-ts toArray()", run: (n) => pipeline(n).toArray() },
      { name: "streamable-ts run()", run: (n) => pipeline(n).run(), output: (n) => pipeline(n).count() },
      {
        name: "hand-written loop into an array",
        run: (n) => {
          const a = integers(n);
          const out: string[] = [];
          for (let i = 0; i < a.length; i++) if (odd(a[i]!)) out.push(String(a[i]));
          return out;
        },
      },
      { name: "streaming-iterables", run: (n) => drainAsync(siMap(String, siFilter(odd, integers(n)))) },
      { name: "IxJS AsyncIterable", run: (n) => drainAsync(ixFromAsync(integers(n)).pipe(ixFilterAsync(odd), ixMapAsync(String))) },
      { name: "Node Readable operators", run: (n) => drainAsync(Readable.from(integers(n)).filter(odd).map(String)) },
      {
        name: "Effect Stream.runCollect",
        run: (n) => Effect.runPromise(EffectStream.fromIterable(integers(n)).pipe(EffectStream.filter(odd), EffectStream.map(String), EffectStream.runCollect)),
      },
      {
        name: "Effect Stream.runCount",
        run: (n) => Effect.runPromise(EffectStream.fromIterable(integers(n)).pipe(EffectStream.filter(odd), EffectStream.map(String), EffectStream.runCount)),
      },
    ],
    w2Size,
  );
  table("W2 filter(odd).map(String), async consumption", w2, "async generator per stage");
  const rate = (name: string) => w2.find((r) => r.name === name)!.perSecond;
  const forAwait = rate("streamable-ts for await");
  const chain = rate("async generator per stage");
  const si = rate("streaming-iterables");
  target("W2 for await >= 3x the async generator chain", forAwait >= 3 * chain, `${(forAwait / chain).toFixed(2)}x`);
  target("W2 for await >= 3x streaming-iterables", forAwait >= 3 * si, `${(forAwait / si).toFixed(2)}x`);
  const effect = rate("Effect Stream.runCount");
  for (const t of ["count()", "run()"]) {
    const r = rate(`streamable-ts ${t}`);
    target(`W2 ${t} >= Effect's runCount`, r >= effect, `${(r / effect).toFixed(2)}x`);
  }
  // toArray keeps every element: it is compared with the contestants that keep them too.
  const toArray = rate("streamable-ts toArray()");
  const collect = rate("Effect Stream.runCollect");
  const push = rate("hand-written loop into an array");
  target("W2 toArray() >= Effect's runCollect", toArray >= collect, `${(toArray / collect).toFixed(2)}x`);
  console.log(`  info toArray() is ${(toArray / push).toFixed(2)}x a hand-written loop into an array`);

  // A job's usual steps around the work, in async consumption: they should cost little next to map itself.
  const silent = { do: () => {} };
  const steps = await compete(
    [
      { name: "map(String).count()", run: (n) => stream(integers(n)).map(String).count() },
      { name: "+ observe + catch + take", run: (n) => stream(integers(n)).map(String).observe("x", silent).catch().take(n).count() },
      { name: "+ group(100)", run: (n) => stream(integers(n)).map(String).observe("x", silent).catch().group(100).count().then((groups) => groups * 100) },
    ],
    w2Size,
  );
  table("Job steps: observe, catch, take, group around map, count()", steps, "map(String).count()");

  await w3();
}
