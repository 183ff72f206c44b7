/**
 * Where time comes from. Every time-based operation reads time and waits only
 * through a `Clock`, so tests drive time by hand instead of sleeping.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds. When `signal` aborts first, rejects at
   * once with its reason and leaves no timer behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
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
