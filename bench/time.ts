/** W7, W9: time-based steps on the real clock. */
import { Effect, Stream as EffectStream } from "effect";
import { stream, systemClock } from "streamable-ts";
import { compete, integers, table, target } from "./harness.js";

/**
 * A batcher written by hand for a data job: up to `upTo` elements, or what came within `ms` of a
 * batch's first element, whichever is first. It consumes any source with `for await`, so its timer
 * can flush a batch while the source is slow. Returns each batch's size.
 */
async function batchWithin<T>(source: Iterable<T> | AsyncIterable<T>, upTo: number, ms: number): Promise<number[]> {
  const sizes: number[] = [];
  let batch: T[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    sizes.push(batch.length);
    batch = [];
  };
  for await (const x of source) {
    if (batch.length === 0) timer = setTimeout(flush, ms);
    batch.push(x);
    if (batch.length >= upTo) flush();
  }
  flush();
  return sizes;
}

const sizesOf = (sizes: number[], group: readonly unknown[]) => {
  sizes.push(group.length);
  return sizes;
};

export async function time(): Promise<void> {
  // W7: 300 elements at 100 per second: windows never over 100, total close to the ideal 2 s.
  // The throttle's guarantee is on its own clock: each element is stamped with the clock's reading
  // as it leaves, read here through the clock the run is given. The times `do` sees come a little later,
  // by a delay that varies (a collection between the stamp and the call), so they are shown too.
  let lastReading = 0;
  const clock = { now: () => (lastReading = performance.now()), sleep: systemClock.sleep };
  const stamps: number[] = [];
  const seen: number[] = [];
  const start = performance.now();
  await stream(integers(300))
    .throttle(100, { per: "1s" })
    .do(() => {
      stamps.push(lastReading);
      seen.push(performance.now());
    })
    .run({ clock });
  const total = performance.now() - start;
  const largest = (times: number[]) => {
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    return most;
  };
  let tightest = Infinity; // the shortest span of 101 elements in a row, as `do` saw them
  for (let i = 100; i < seen.length; i++) tightest = Math.min(tightest, seen[i]! - seen[i - 100]!);
  console.log(`\nW7 300 elements, throttle(100, { per: "1s" }), real clock`);
  console.log(`  total ${total.toFixed(1)} ms (ideal 2000 ms); largest count in any 1 s window: ${largest(stamps)} of the throttle's stamps, ${largest(seen)} of the times do saw (101 elements in a row spanned at least ${tightest.toFixed(2)} ms)`);
  target("W7 no 1 s window of the throttle's clock holds more than 100", largest(stamps) <= 100, `${largest(stamps)}`);
  target("W7 total within 3% of the ideal", Math.abs(total - 2000) <= 60, `${((total / 2000 - 1) * 100).toFixed(2)}%`);

  // W9: grouping by time over ready elements costs little more than grouping by size. Each row
  // returns its groups' sizes, which must agree.
  const w9 = await compete(
    [
      { name: "group(1000)", run: (n) => stream(integers(n)).group(1000).reduce(sizesOf, [] as number[]) },
      { name: 'group({ upTo: 1000, within: "100ms" })', run: (n) => stream(integers(n)).group({ upTo: 1000, within: "100ms" }).reduce(sizesOf, [] as number[]) },
      { name: "hand-written batcher with a timer", run: (n) => batchWithin(integers(n), 1000, 100) },
      {
        name: "Effect Stream.groupedWithin",
        run: (n) => Effect.runPromise(EffectStream.fromIterable(integers(n)).pipe(EffectStream.groupedWithin(1000, "100 millis"), EffectStream.map((g) => g.length), EffectStream.runCollect)),
      },
    ],
    1_000_000,
  );
  table("W9 grouping ready elements (10^5 in the issue)", w9, "group(1000)");
  const rate = (name: string) => w9.find((r) => r.name === name)!.perSecond;
  const within = rate('group({ upTo: 1000, within: "100ms" })');
  const ratio = within / rate("group(1000)");
  target("W9 group within >= 1/3 the throughput of group(1000)", ratio >= 1 / 3, `${ratio.toFixed(2)}x`);
  const hand = within / rate("hand-written batcher with a timer");
  target("W9 group within >= a hand-written batcher with a timer", hand >= 1, `${hand.toFixed(2)}x`);
  const effect = within / rate("Effect Stream.groupedWithin");
  target("W9 group within >= Effect's groupedWithin", effect >= 1, `${effect.toFixed(2)}x`);
}
