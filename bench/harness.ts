/** A small benchmark harness: adaptive sizes, best of several runs, ratios against a baseline. */

export interface Contestant {
  readonly name: string;
  /** Processes `n` elements and returns something derived from them (so nothing is optimised away). */
  readonly run: (n: number) => unknown;
}

export interface Measured {
  readonly name: string;
  /** Elements per second, best of the runs. */
  readonly perSecond: number;
  readonly n: number;
}

const budgetMs = Number(process.env.BENCH_BUDGET_MS ?? 400);
const runs = Number(process.env.BENCH_RUNS ?? 5);

/**
 * Grows `n` until one run takes about `budgetMs`, then keeps the best of `runs` runs at that size.
 * For workloads whose issue names no size, and for contestants that would take seconds per run at it.
 */
export async function measure(c: Contestant, start = 100_000, max = 10_000_000): Promise<Measured> {
  let n = start;
  for (;;) {
    const t0 = performance.now();
    await c.run(n);
    const ms = performance.now() - t0;
    if (ms >= budgetMs / 2 || n >= max) break;
    n = Math.min(max, n * Math.max(2, Math.ceil(budgetMs / 2 / Math.max(ms, 1))));
  }
  return timedRuns(c, n);
}

/**
 * The best of `runs` runs at size `n`. They start on a collected heap (`npm run bench` passes
 * `--expose-gc`), so what earlier contestants left behind is not collected on this one's time.
 */
async function timedRuns(c: Contestant, n: number): Promise<Measured> {
  global.gc?.();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await c.run(n);
    best = Math.min(best, performance.now() - t0);
  }
  return { name: c.name, perSecond: (n / best) * 1000, n };
}

/**
 * Contestants compared at one size `n` in interleaved rounds: after a warm-up run of each, every
 * round runs each once, in turn, and each keeps its best run. A slow spell of a shared machine
 * then falls on all of them rather than on whichever ran during it, and no contestant is timed
 * at a size of its own. The heap is collected once, before the rounds. For W1, W2 at 10^7 and W3.
 */
export async function measureTogether(contestants: readonly Contestant[], n: number, rounds = runs * 2): Promise<Measured[]> {
  for (const c of contestants) await c.run(n);
  global.gc?.();
  const best = contestants.map(() => Infinity);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contestants.length; k++) {
      const i = (k + round) % contestants.length;
      const t0 = performance.now();
      await contestants[i]!.run(n);
      best[i] = Math.min(best[i]!, performance.now() - t0);
    }
  }
  return contestants.map((c, i) => ({ name: c.name, perSecond: (n / best[i]!) * 1000, n }));
}

/** Times one run of a fixed workload, best of `times`, in milliseconds. */
export async function timeIt(run: () => unknown, times = 3): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(1)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;
}

function formatCount(n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : `${+(n / 1e3).toFixed(0)}k`;
}

/** Prints a table: each row's throughput and its ratio to `baseline`. */
export function table(title: string, rows: readonly Measured[], baseline: string): void {
  const base = rows.find((r) => r.name === baseline)!;
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(width)}  ${formatRate(r.perSecond).padStart(10)}  ${(r.perSecond / base.perSecond).toFixed(2)}x ${baseline}  n = ${formatCount(r.n)}`);
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
