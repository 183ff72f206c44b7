import { systemClock, type Clock } from "./internal/clock.js";
import { duration, type Duration } from "./internal/duration.js";
import { isPromise } from "./internal/promise.js";
import { nameOf, show } from "./internal/show.js";
import { boolean, func, integer, options } from "./internal/validate.js";

/** How waits grow between attempts. */
export interface Backoff {
  /** The wait after the first failure. @default 100 (ms) */
  readonly initial?: Duration;
  /** Each wait is the previous one times this, at least 1. @default 2 */
  readonly factor?: number;
  /** The longest wait. @default "10s" */
  readonly max?: Duration;
  /** "Full jitter": each wait is drawn uniformly between 0 and the computed backoff. @default true */
  readonly jitter?: boolean;
}

/** When and how to try a failed call again. */
export interface RetryPolicy {
  /** Calls in all, the first included, at least 1. @default 3 */
  readonly attempts?: number;
  readonly backoff?: Backoff;
  /** Retries only the errors for which it returns true; `attempt` is the number of the call that failed (1 for the first). */
  readonly where?: (error: unknown, attempt: number) => boolean;
  /** Told of each retry before its wait: to log it or count it. */
  readonly onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
}

/** Options of the standalone {@link retrying}: a policy, plus where time comes from and what cancels it. */
export interface RetryingOptions extends RetryPolicy {
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

/** A policy with every default filled in and every value checked. */
export interface ResolvedRetry {
  readonly attempts: number;
  readonly initial: number;
  readonly factor: number;
  readonly max: number;
  readonly jitter: boolean;
  readonly where: ((error: unknown, attempt: number) => boolean) | undefined;
  readonly onRetry: ((error: unknown, attempt: number, waitMs: number) => void) | undefined;
}

const POLICY_KEYS = ["attempts", "backoff", "where", "onRetry"] as const;

/** Checks a retry policy, naming the bad argument; `true` or a number of attempts are shorthands. */
export function retryPolicy(value: unknown, extraKeys: readonly string[] = []): ResolvedRetry {
  const policy =
    value === true ? {} : typeof value === "number" ? { attempts: value } : options<RetryPolicy>("retry", value, [...POLICY_KEYS, ...extraKeys]);
  const backoff = options<Backoff>("backoff", policy.backoff, ["initial", "factor", "max", "jitter"]);
  const factor = backoff.factor ?? 2;
  if (typeof factor !== "number" || !(factor >= 1) || !Number.isFinite(factor)) {
    throw new RangeError(`\`factor\` must be a number >= 1, got ${show(factor)}`);
  }
  return Object.freeze({
    attempts: policy.attempts === undefined ? 3 : integer("attempts", policy.attempts, 1),
    initial: backoff.initial === undefined ? 100 : duration("initial", backoff.initial),
    factor,
    max: backoff.max === undefined ? 10_000 : duration("max", backoff.max),
    jitter: backoff.jitter === undefined ? true : boolean("jitter", backoff.jitter),
    where: policy.where === undefined ? undefined : func<NonNullable<RetryPolicy["where"]>>("where", policy.where),
    onRetry: policy.onRetry === undefined ? undefined : func<NonNullable<RetryPolicy["onRetry"]>>("onRetry", policy.onRetry),
  });
}

/** The policy as `explain()` shows it. */
export function explainRetry(p: ResolvedRetry): string {
  const jitter = p.jitter ? ", jitter: true" : "";
  const where = p.where ? `, where: ${nameOf(p.where, "where")}` : "";
  return `retry: { attempts: ${p.attempts}, backoff: { initial: ${p.initial}, factor: ${p.factor}, max: ${p.max}${jitter} }${where} }`;
}

/** The wait before retry number `retry` (1 for the first), in ms, before jitter. */
function backoffMs(p: ResolvedRetry, retry: number): number {
  return Math.min(p.max, p.initial * p.factor ** (retry - 1));
}

/**
 * The wait an error asks for, in ms, if any: its `retryAfter` (ms), or the
 * `Retry-After` header (seconds, or an HTTP date) of its `response` or its own
 * `headers`, read from a `Headers` object or a plain one.
 */
function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const e = error as { retryAfter?: unknown; headers?: unknown; response?: { headers?: unknown } };
  if (typeof e.retryAfter === "number" && e.retryAfter >= 0) return e.retryAfter;
  const headers = e.response?.headers ?? e.headers;
  let header: unknown;
  if (headers && typeof (headers as Headers).get === "function") header = (headers as Headers).get("retry-after");
  else if (headers && typeof headers === "object") {
    const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === "retry-after");
    header = Array.isArray(entry?.[1]) ? entry[1][0] : entry?.[1];
  }
  if (typeof header === "number") return Math.max(0, header * 1000);
  if (typeof header !== "string" || header.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Calls `call` until it succeeds or the policy says stop, waiting on `clock`
 * between attempts. An error's own hint (`retryAfter`, `Retry-After`) wins over
 * the backoff. When attempts run out, the last error is thrown as it is, with the
 * earlier attempts' errors as its `cause` (an AggregateError) when it has none.
 * An abort of `signal` stops a wait at once and throws the signal's reason.
 */
export async function callWithRetry<R>(call: () => R | PromiseLike<R>, p: ResolvedRetry, clock: Clock, signal?: AbortSignal): Promise<R> {
  const failures: unknown[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      const out = call();
      return isPromise(out) ? await out : out;
    } catch (error) {
      failures.push(error);
      if (attempt >= p.attempts || signal?.aborted || (p.where && !p.where(error, attempt))) throw withEarlierFailures(error, failures);
      const hinted = retryAfterMs(error);
      const wait = hinted ?? (p.jitter ? Math.random() * backoffMs(p, attempt) : backoffMs(p, attempt));
      p.onRetry?.(error, attempt, wait);
      await clock.sleep(wait, signal);
    }
  }
}

function withEarlierFailures(error: unknown, failures: unknown[]): unknown {
  if (failures.length > 1 && error instanceof Error && error.cause === undefined) {
    const n = failures.length - 1;
    error.cause = new AggregateError(failures.slice(0, -1), `${n} earlier attempt${n > 1 ? "s" : ""} failed`);
  }
  return error;
}

/**
 * Wraps `fn` (sync or async) so that each call is retried by the policy; the
 * wrapped function always returns a promise. Use it anywhere; in a stream,
 * `map(fn, { retry })` does the same inside each element's concurrency slot.
 *
 * @throws TypeError, RangeError when the policy is invalid, at once.
 * @example Retry a flaky call
 * ```ts
 * let calls = 0;
 * const busy = () => Object.assign(new Error("503 busy"), { retryAfter: 0 }); // the server's hint: retry now
 * const flaky = retrying(() => { if (++calls < 3) throw busy(); return "ok"; }, { attempts: 3 });
 * await flaky(); // → "ok"
 * ```
 */
export function retrying<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, policy: RetryingOptions = {}): (...args: A) => Promise<Awaited<R>> {
  func("fn", fn);
  const p = retryPolicy(policy, ["clock", "signal"]);
  const clock = policy.clock ?? systemClock;
  const wrapped = (...args: A) => callWithRetry(() => fn(...args), p, clock, policy.signal) as Promise<Awaited<R>>;
  Object.defineProperty(wrapped, "name", { value: `retrying(${nameOf(fn)})` });
  return wrapped;
}
