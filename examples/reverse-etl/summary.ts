/** The end of a demo run: what happened, and whether the API holds every user of the interval exactly once. */
import type { ApiLog } from "./api.js";
import type { JobStats } from "./job.js";

export interface SummaryInput {
  readonly stats: JobStats;
  /** Ids of the users in the interval, from the warehouse; undefined when it could not be asked (it failed). */
  readonly expected: readonly number[] | undefined;
  readonly log: ApiLog;
  readonly rate: number;
  readonly elapsedMs: number;
  readonly failure: unknown;
  /** Ids that may be at the API but need not be (an interval stopped midway). */
  readonly partial?: readonly number[];
  /** Lines to add before the verdict. */
  readonly extra?: readonly string[];
}

export interface Summary {
  /** The job succeeded and the API holds every user of the interval exactly once. */
  readonly ok: boolean;
  readonly text: string;
  readonly missing: readonly number[];
  readonly duplicated: readonly number[];
  readonly tooManyRequests: number;
  readonly peak: number;
  readonly paced: number | undefined;
  /** Batches the API took again by their idempotency key (answered, not recorded). */
  readonly resent: number;
  /** The idempotency keys the API took, in order. */
  readonly keys: readonly string[];
}

/** The largest number of requests in any sliding second. */
export function peakPerSecond(times: readonly number[]): number {
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/**
 * The pace of the requests, per second: a limiter of `rate` per second lets
 * request k go once request k - rate is a second old, so `rate` over the typical
 * (median) time between the two is the rate the job ran at. Undefined when the
 * run was too short to tell.
 */
export function pacedPerSecond(times: readonly number[], rate: number): number | undefined {
  const gaps = times.slice(rate).map((t, i) => t - times[i]!).sort((a, b) => a - b);
  if (gaps.length === 0) return undefined;
  return (rate / gaps[Math.floor(gaps.length / 2)]!) * 1000;
}

export function summarize(input: SummaryInput): Summary {
  const { stats, log, rate, failure } = input;
  const known = input.expected !== undefined;
  const expected = input.expected ?? [];
  const missing = expected.filter((id) => !log.received.has(id));
  const duplicated = [...log.received].filter(([, n]) => n > 1).map(([id]) => id);
  const allowed = new Set([...expected, ...(input.partial ?? [])]);
  const unexpected = known ? [...log.received.keys()].filter((id) => !allowed.has(id)) : [];
  const exactlyOnce = known && missing.length === 0 && duplicated.length === 0 && unexpected.length === 0;
  const peak = peakPerSecond(log.requests);
  const paced = pacedPerSecond(log.requests, rate);
  const lines = [
    "",
    "Summary",
    `  users read            ${stats.usersRead} (${known ? `the interval holds ${expected.length}` : "the warehouse could not say how many the interval holds"})`,
    `  users delivered       ${log.received.size} distinct at the API, ${duplicated.length} of them more than once`,
    `  batches posted        ${stats.batchesPosted}`,
    `  re-sent batches       ${log.resent} (sent again after a crash or a lost answer; the API took each once, by its Idempotency-Key)`,
    `  retries               ${stats.retries}`,
    `  429s received         ${stats.tooManyRequests}`,
    `  requests to the API   ${log.requests.length} (${Object.entries(log.statuses).map(([s, n]) => `${n} x ${s}`).join(", ")})`,
    `  peak request rate     ${peak} in a sliding second (the API allows ${rate})`,
    paced === undefined
      ? "  request rate          too few requests to measure"
      : `  request rate          ${paced.toFixed(2)} requests/s (${(((rate - paced) / rate) * 100).toFixed(1)}% under the limit of ${rate}/s)`,
    `  elapsed               ${(input.elapsedMs / 1000).toFixed(2)} s`,
    ...(input.extra ?? []),
    exactlyOnce
      ? `  exactly once          yes: the API holds each of the ${expected.length} users once`
      : known
        ? `  exactly once          NO: ${missing.length} missing, ${duplicated.length} duplicated, ${unexpected.length} unexpected`
        : `  exactly once          UNKNOWN: the warehouse failed; ${duplicated.length} duplicated at the API`,
    failure === undefined ? "  job                   succeeded" : `  job                   FAILED: ${(failure as Error).message ?? String(failure)}`,
  ];
  return { ok: exactlyOnce && failure === undefined, text: lines.join("\n"), missing, duplicated, tooManyRequests: stats.tooManyRequests, peak, paced, resent: log.resent, keys: log.keys };
}
