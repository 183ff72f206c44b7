/**
 * The benchmark harness: every contestant of a workload runs at one size, in interleaved rounds,
 * after a warm-up run that checks they all produce the same output; each is reported as the
 * median of its rounds with the spread (slowest and fastest round), and ratios against a baseline.
 */

export interface Contestant {
  readonly name: string;
  /**
   * Processes `n` elements and returns its output: a count, or the elements themselves. The
   * warm-up run checks that every contestant of a workload returns the same (see `sameOutputs`).
   */
  readonly run: (n: number) => unknown;
  /** For a run that returns nothing (`run()`): the same work's output, computed once for the check. */
  readonly output?: (n: number) => unknown;
}

export interface Measured {
  readonly name: string;
  readonly n: number;
  /** Elements per second in the median round. */
  readonly perSecond: number;
  /** Elements per second in the slowest and the fastest round. */
  readonly slowest: number;
  readonly fastest: number;
  /** The median round's time, in milliseconds. */
  readonly ms: number;
}

/** Rounds per workload; `BENCH_ROUNDS=9` for a tighter median. */
export const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

/**
 * Runs `contestants` at one size `n`: a warm-up run each (whose outputs must agree), then
 * `rounds` rounds in which each runs once, in a rotating order, on a heap collected before the
 * rounds. A slow spell of a shared machine then falls on all of them rather than on whichever
 * ran during it; the median round is reported, with the slowest and the fastest.
 */
export async function compete(contestants: readonly Contestant[], n: number, times = rounds): Promise<Measured[]> {
  const outputs: unknown[] = [];
  for (const c of contestants) {
    const out = await c.run(n);
    outputs.push(c.output ? await c.output(n) : out);
  }
  sameOutputs(contestants, outputs);
  global.gc?.();
  const ms = contestants.map((): number[] => []);
  for (let round = 0; round < times; round++) {
    for (let k = 0; k < contestants.length; k++) {
      const i = (k + round) % contestants.length;
      const t0 = performance.now();
      await contestants[i]!.run(n);
      ms[i]!.push(performance.now() - t0);
    }
  }
  return contestants.map((c, i) => {
    const sorted = ms[i]!.sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const rate = (t: number) => (n / t) * 1000;
    return { name: c.name, n, perSecond: rate(median), slowest: rate(sorted.at(-1)!), fastest: rate(sorted[0]!), ms: median };
  });
}

/** A count (a number) or the elements (an array), and for an array, a digest of its elements. */
function describe(output: unknown): { count: number; digest?: string } {
  if (typeof output === "number") return { count: output };
  if (Array.isArray(output)) {
    let h = 0x811c9dc5;
    for (const x of output) {
      const s = typeof x === "string" ? x : JSON.stringify(x);
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      h = Math.imul(h ^ 0x2c, 0x01000193);
    }
    return { count: output.length, digest: (h >>> 0).toString(16) };
  }
  throw new Error(`a contestant's output must be a count or an array, got ${typeof output}`);
}

/**
 * Fails the run unless every contestant returned the same count, and every one that returned its
 * elements returned the same elements: a contestant that skips work is not timed.
 */
export function sameOutputs(contestants: readonly Contestant[], outputs: readonly unknown[]): void {
  const described = outputs.map(describe);
  const first = described[0]!;
  const withElements = described.find((d) => d.digest !== undefined);
  described.forEach((d, i) => {
    if (d.count !== first.count || (d.digest !== undefined && d.digest !== withElements!.digest)) {
      const show = (x: { count: number; digest?: string }) => `${x.count}${x.digest ? ` elements (digest ${x.digest})` : ""}`;
      throw new Error(`bench: ${contestants[i]!.name} produced ${show(d)}, where ${contestants[0]!.name} produced ${show(first)}${withElements ? ` and elements of digest ${withElements.digest}` : ""}`);
    }
  });
}

export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(1)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;
}

function formatRange(m: Measured): string {
  const f = (r: number) => (m.perSecond >= 1e6 ? (r / 1e6).toFixed(1) : (r / 1e3).toFixed(0));
  return `(${f(m.slowest)}-${f(m.fastest)})`;
}

function formatCount(n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : `${+(n / 1e3).toFixed(0)}k`;
}

/** Prints a table: each row's median throughput, its spread over the rounds, and its ratio to `baseline`. */
export function table(title: string, rows: readonly Measured[], baseline: string): void {
  const base = rows.find((r) => r.name === baseline)!;
  console.log(`\n${title}, n = ${formatCount(rows[0]!.n)} each, median of ${rounds} rounds (slowest-fastest)`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(width)}  ${formatRate(r.perSecond).padStart(10)} ${formatRange(r).padEnd(13)} ${(r.perSecond / base.perSecond).toFixed(2)}x ${baseline}`);
  }
}

/** Prints a target from the issues and whether this run meets it. */
export function target(text: string, met: boolean, detail: string): void {
  console.log(`  ${met ? "MET " : "MISS"} ${text} (${detail})`);
}

const arrays = new Map<number, number[]>();
/** 0..n-1 as an array, shared between contestants. */
export function integers(n: number): number[] {
  let a = arrays.get(n);
  if (!a) arrays.set(n, (a = Array.from({ length: n }, (_, i) => i)));
  return a;
}

/** Drops the shared arrays, so one group's memory does not slow the next one's garbage collection. */
export function forgetIntegers(): void {
  arrays.clear();
}
