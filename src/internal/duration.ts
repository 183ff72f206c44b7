import { MAX_TIMER_MS } from "./clock.js";
import { show } from "./show.js";

/** A duration: milliseconds, or a string such as "500ms", "1.5s", "2m", "1h". */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h"}`;

/** The longest duration an option takes: the longest single timer (2^31 - 1 ms, about 24.8 days). */
const MAX_DURATION_MS = MAX_TIMER_MS;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Parses a positive duration to milliseconds; anything else throws, naming the argument. */
export function duration(name: string, value: unknown): number {
  let ms = typeof value === "number" ? value : NaN;
  if (typeof value === "string") {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
    if (match) ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  if (!(ms > 0 && Number.isFinite(ms))) {
    throw new (typeof value === "number" ? RangeError : TypeError)(
      `\`${name}\` must be a positive duration: milliseconds, or a string such as "500ms", "1s", "2m", "1h"; got ${show(value)}`,
    );
  }
  if (ms > MAX_DURATION_MS) {
    throw new RangeError(`\`${name}\` must be at most ${MAX_DURATION_MS} ms (about 24.8 days, the longest timer), got ${show(value)}`);
  }
  return ms;
}

/** A duration as it was written, for `explain()`: `"1s"` or `250`. */
export function showDuration(value: Duration): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
