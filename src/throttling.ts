import { systemClock, type Clock } from "./internal/clock.js";
import { duration, type Duration } from "./internal/duration.js";
import { nameOf, show } from "./internal/show.js";
import { func, integer, options } from "./internal/validate.js";
import { checkStoreAndKey, memoryStore, type Quota, type ThrottleStore } from "./quota.js";

/** Options of {@link throttling}. */
export interface ThrottlingOptions {
  /** Calls allowed in any sliding window of `per`. */
  readonly upTo: number;
  /** The window: milliseconds, or "500ms", "1s", "2m", "1h". */
  readonly per: Duration;
  /**
   * Where a call's place in the window starts and ends. `"settled"` (the
   * default): from the call's start until `per` after it settles, so however long
   * requests take on the way, no more than `upTo` reach the API in any `per`.
   * `"start"`: from the call's start, for `per`.
   * @default "settled"
   */
  readonly from?: "start" | "settled";
  /** Where the window is kept: this process by default; a shared store lets processes share the quota. */
  readonly store?: ThrottleStore;
  /** The quota's name in `store` (needed with one): wrappers with the same key share one window. */
  readonly key?: string;
  readonly clock?: Clock;
}

/** The `{ signal }` that `map` and `do` pass as a callback's last argument, if the call has one. */
function signalOf(args: unknown[]): AbortSignal | undefined {
  const last = args[args.length - 1] as { signal?: unknown } | undefined;
  return last !== null && typeof last === "object" && last.signal instanceof AbortSignal ? last.signal : undefined;
}

/**
 * Wraps `fn` so that its calls, from anywhere and however concurrent, keep to a
 * quota: at most `upTo` in any sliding window of `per`. By default a call holds
 * its place from its start until `per` after it settles (`from: "settled"`), so
 * the API never sees more than `upTo` requests arrive in any `per`, whatever the
 * latency between here and there. Calls wait their turn in the order they were
 * made. Where `.throttle` paces the elements of one stream, this paces the calls
 * themselves: wrapped inside `retry`, every attempt counts. A call whose last
 * argument is `{ signal }` (as `map` and `do` pass) stops waiting when it aborts,
 * and takes no place.
 *
 * @throws RangeError, TypeError when an option is invalid, at once.
 * @example At most 2 calls per second
 * ```ts
 * const post = throttling(async (batch: number[]) => batch.length, { upTo: 2, per: "1s" });
 * await stream([[1], [2, 3]]).map(post, { concurrency: 2 }).toArray(); // → [1, 2]
 * ```
 */
export function throttling<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, opts: ThrottlingOptions): (...args: A) => Promise<Awaited<R>> {
  func("fn", fn);
  const o = options<ThrottlingOptions>("throttling", opts, ["upTo", "per", "from", "store", "key", "clock"]);
  const from = o.from ?? "settled";
  if (from !== "start" && from !== "settled") throw new TypeError(`\`from\` must be "start" or "settled", got ${show(o.from)}`);
  const quota: Quota = { upTo: integer("upTo", o.upTo, 1), per: duration("per", o.per), from };
  checkStoreAndKey(o.store, o.key);
  if (o.store !== undefined && o.key === undefined) throw new TypeError("`throttling` with a `store` needs a `key`: the quota's name in it");
  const store = o.store ?? memoryStore({ clock: o.clock ?? systemClock });
  const key = o.key ?? "throttling";

  const throttled = async (...args: A): Promise<Awaited<R>> => {
    const place = await store.acquire(key, quota, signalOf(args));
    try {
      return (await fn(...args)) as Awaited<R>;
    } finally {
      await place.release();
    }
  };
  const per = typeof o.per === "string" ? o.per : `${o.per}ms`;
  const shared = o.key === undefined ? "" : `, shared ${JSON.stringify(o.key)}`;
  Object.defineProperty(throttled, "name", { value: `throttling(${nameOf(fn)}, ${quota.upTo} per ${per} from ${from}${shared})` });
  return throttled;
}
