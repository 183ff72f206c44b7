import { systemClock, type Clock } from "./internal/clock.js";
import { duration, showDuration, type Duration } from "./internal/duration.js";
import { nameOf } from "./internal/show.js";
import { func, integer, options } from "./internal/validate.js";
import { Window } from "./operators/throttle.js";

/** Options of {@link throttling}. */
export interface ThrottlingOptions {
  /** Calls allowed in any sliding window of `per`. */
  readonly upTo: number;
  /** The window: milliseconds, or "500ms", "1s", "2m", "1h". */
  readonly per: Duration;
  readonly clock?: Clock;
}

/** The `{ signal }` that `map` and `do` pass as a callback's last argument, if the call has one. */
function signalOf(args: unknown[]): AbortSignal | undefined {
  const last = args[args.length - 1] as { signal?: unknown } | undefined;
  return last !== null && typeof last === "object" && last.signal instanceof AbortSignal ? last.signal : undefined;
}

/**
 * Wraps `fn` so that its calls, from anywhere and however concurrent, start at
 * most `upTo` times in any sliding window of `per`; calls wait their turn in the
 * order they were made. Where `.throttle` paces the elements of one stream, this
 * paces the calls themselves: wrapped inside `retry`, every attempt counts
 * against the destination's limit, so retries cannot push it over. A call whose
 * last argument is `{ signal }` (as `map` and `do` pass) stops waiting when it aborts.
 *
 * @throws RangeError, TypeError when `upTo` or `per` is invalid, at once.
 * @example At most 2 calls per second
 * ```ts
 * const post = throttling(async (batch: number[]) => batch.length, { upTo: 2, per: "1s" });
 * await stream([[1], [2, 3]]).map(post, { concurrency: 2 }).toArray(); // → [1, 2]
 * ```
 */
export function throttling<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, opts: ThrottlingOptions): (...args: A) => Promise<Awaited<R>> {
  func("fn", fn);
  const o = options<ThrottlingOptions>("throttling", opts, ["upTo", "per", "clock"]);
  const upTo = integer("upTo", o.upTo, 1);
  const per = duration("per", o.per);
  const clock = o.clock ?? systemClock;
  const window = new Window(upTo);
  /** Settles when the previous caller has its turn: turns are taken in call order. */
  let previous: Promise<unknown> = Promise.resolve();

  const throttled = async (...args: A): Promise<Awaited<R>> => {
    const signal = signalOf(args);
    const turn = previous.then(async () => {
      for (let wait; (wait = window.earliest(per) - clock.now()) > 0; ) await clock.sleep(wait, signal);
      window.record(clock.now());
    });
    previous = turn.catch(() => {}); // an aborted caller does not block the ones after it
    await turn;
    return (await fn(...args)) as Awaited<R>;
  };
  Object.defineProperty(throttled, "name", { value: `throttling(${nameOf(fn)}, ${upTo} per ${showDuration(o.per!)})` });
  return throttled;
}
