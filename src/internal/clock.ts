/**
 * Where time comes from. Every time-based operation reads time and waits only
 * through a `Clock`, so tests drive time by hand instead of sleeping.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds. When `signal` aborts first, rejects at
   * once with its reason and leaves no timer behind. With `keepAlive: false`
   * the wait does not keep the process alive on its own (a periodic report
   * does not; a wait that someone awaits does).
   */
  sleep(ms: number, signal?: AbortSignal, options?: SleepOptions): Promise<void>;
}

/** Options of {@link Clock.sleep}. */
export interface SleepOptions {
  /** Whether the pending wait alone keeps the process alive. @default true */
  readonly keepAlive?: boolean;
}

/** The longest delay `setTimeout` takes (about 24.8 days); a longer wait is a chain of such timers. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock: `performance.now()` and `setTimeout`; waits longer than a timer can take are chained. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep(ms, signal, options) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let timer: ReturnType<typeof setTimeout>;
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const arm = (left: number) => {
        const step = Math.min(left, MAX_TIMER_MS);
        timer = setTimeout(() => {
          if (left > step) return arm(left - step);
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, step);
        if (options?.keepAlive === false) (timer as { unref?: () => void }).unref?.();
      };
      arm(Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * One pending wake-up at a time on a clock: `at(time)` arms it (re-arming only
 * when the time changes), `fired` settles when it goes off, `clear()` cancels it.
 * Waiting on a deadline across many calls then costs one timer, not one per call.
 */
export class Alarm {
  readonly #clock: Clock;
  readonly #signal: AbortSignal;
  #time: number | undefined;
  #cancel: AbortController | undefined;
  #fired: Promise<void> | undefined;

  constructor(clock: Clock, signal: AbortSignal) {
    this.#clock = clock;
    this.#signal = signal;
  }

  /** A promise that settles at `time` (or at once if it passed); never rejects. */
  at(time: number): Promise<void> {
    if (this.#time === time && this.#fired) return this.#fired;
    this.clear();
    const cancel = new AbortController();
    const onAbort = () => cancel.abort();
    this.#signal.addEventListener("abort", onAbort, { once: true });
    this.#time = time;
    this.#cancel = cancel;
    this.#fired = this.#clock
      .sleep(time - this.#clock.now(), cancel.signal)
      .catch(() => {})
      .finally(() => this.#signal.removeEventListener("abort", onAbort));
    return this.#fired;
  }

  clear(): void {
    this.#cancel?.abort();
    this.#time = undefined;
    this.#cancel = undefined;
    this.#fired = undefined;
  }
}
