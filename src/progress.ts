/**
 * A live progress display for `observe`: on a terminal, one line per observed
 * subject, redrawn in place (count, errors, rate, and with a known total a bar
 * and the time left); elsewhere (a file, a pipe, a log collector), `observe`'s
 * usual log lines. No dependency: ANSI cursor moves only.
 */
import { systemClock, type Clock } from "./internal/clock.js";
import { duration, type Duration } from "./internal/duration.js";
import { integer } from "./internal/validate.js";
import type { Observation, ObserveOptions } from "./operators/observe.js";

/** Where the display writes: `process.stderr` by default; a terminal when `isTTY`. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** The terminal's width: lines are cut to it. */
  readonly columns?: number;
}

/** Options of {@link progress}. */
export interface ProgressOptions {
  /** @default process.stderr */
  readonly output?: ProgressOutput;
  /** The expected count of each subject, when known: a bar, a percentage and the time left. */
  readonly totals?: Readonly<Record<string, number>>;
  /** How often the lines are redrawn at most. @default 100 */
  readonly refresh?: Duration;
  readonly clock?: Clock;
}

/** A progress display; `close()` it (or `using`) to draw the last state and stop. */
export interface Progress extends Disposable {
  /**
   * Options for `observe(subject, …)`: on a terminal, every element is
   * counted into the display; elsewhere, they are empty, and `observe` logs as
   * it does by default.
   */
  readonly options: ObserveOptions & { readonly every?: number };
  /** Whether the display is live (the output is a terminal). */
  readonly live: boolean;
  /** Draws the last state, and stops redrawing. */
  close(): void;
}

/**
 * A live display of what `observe` counts, for a terminal.
 *
 * @example
 * ```ts
 * const display = progress({ output: { write: () => true }, totals: { rows: 3 } });
 * await stream([1, 2, 3]).observe("rows", display.options).count(); // → 3
 * display.close();
 * display.live; // → false
 * ```
 */
export function progress(options: ProgressOptions = {}): Progress {
  const output: ProgressOutput = options.output ?? process.stderr;
  const refresh = duration("refresh", options.refresh ?? 100);
  const totals = options.totals ?? {};
  for (const [subject, total] of Object.entries(totals)) integer(`totals["${subject}"]`, total, 0);
  const clock = options.clock ?? systemClock;
  const live = output.isTTY === true;
  if (!live) return { options: {}, live, close: () => {}, [Symbol.dispose]: () => {} };

  const latest = new Map<string, Observation>();
  let drawn = 0; // lines on screen, to move back over
  let pending: AbortController | undefined;
  let closed = false;
  const draw = () => {
    pending = undefined;
    const width = Math.max(20, (output.columns || 100) - 1); // a terminal of unknown size (0) gets 100
    const pad = Math.max(...[...latest.keys()].map((s) => s.length));
    let text = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const o of latest.values()) text += `\x1b[2K${progressLine(o, totals[o.subject], pad).slice(0, width)}\n`;
    drawn = latest.size;
    output.write(text);
  };
  const update = (o: Observation) => {
    if (closed) return;
    latest.set(o.subject, o);
    if (pending !== undefined) return;
    const timer = (pending = new AbortController());
    clock.sleep(refresh, timer.signal).then(
      () => timer === pending && draw(),
      () => {},
    );
  };
  const close = () => {
    if (closed) return;
    closed = true;
    pending?.abort();
    if (latest.size > 0) draw();
  };
  return { options: { every: 1, do: update }, live, close, [Symbol.dispose]: close };
}

/** `users          12,345 / 20,000 [##########----------]  61.7%  0 errors  1,234/s  6s left` */
export function progressLine(o: Observation, total: number | undefined, pad = o.subject.length): string {
  const seconds = o.elapsed / 1000;
  const rate = seconds > 0 ? o.elements / seconds : 0;
  const count = o.elements.toLocaleString("en-US");
  const parts = [o.subject.padEnd(pad)];
  if (total !== undefined && total > 0) {
    const share = Math.min(1, o.elements / total);
    const filled = Math.round(share * 20);
    parts.push(`${count} / ${total.toLocaleString("en-US")} [${"#".repeat(filled)}${"-".repeat(20 - filled)}] ${(share * 100).toFixed(1).padStart(5)}%`);
  } else parts.push(count);
  parts.push(`${o.errors} error${o.errors === 1 ? "" : "s"}`, `${Math.round(rate).toLocaleString("en-US")}/s`);
  if (total !== undefined && rate > 0 && o.elements < total) parts.push(`${formatLeft((total - o.elements) / rate)} left`);
  return parts.join("  ");
}

/** Seconds as people read a time left: `45s`, `3m 20s`, `1h 5m`. */
function formatLeft(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
