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
