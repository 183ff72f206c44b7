import type { Clock } from "../internal/clock.js";

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
