import type { Clock, Stream } from "streamable-ts";

/** A clock that moves only when a test says so. */
export class ManualClock implements Clock {
  #now = 0;
  #timers: { at: number; resolve: () => void; seq: number }[] = [];
  #seq = 0;

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: () => {} };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal!.reason);
      };
      timer.resolve = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** When the earliest pending timer is due, if any. */
  get nextTimer(): number | undefined {
    return this.#timers.length ? Math.min(...this.#timers.map((t) => t.at)) : undefined;
  }

  /** Timers not yet fired nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.resolve();
    }
    this.#now = target;
    await settle();
  }
}

/**
 * A clock on which every wait ends on the next turn of the event loop, with time
 * moved on by its length: the time-based operations do all their waiting
 * (throttle's window, group's and observe's deadlines, retry's pause) without
 * the test sleeping, and a periodic report cannot starve the event loop.
 */
export class SkippingClock implements Clock {
  #now = 0;
  now(): number {
    return this.#now;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const until = this.#now + Math.max(0, ms);
      const onAbort = () => {
        clearImmediate(wake);
        reject(signal!.reason);
      };
      const wake = setImmediate(() => {
        signal?.removeEventListener("abort", onAbort);
        this.#now = Math.max(this.#now, until);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Runs `work` to its end on `clock`: whenever it waits, time jumps to the next
 * timer. Fails if it waits with no timer pending (it would hang for real).
 */
export async function runOnClock<T>(clock: ManualClock, work: Promise<T>, { idleRounds = 20 } = {}): Promise<T> {
  let finished = false;
  const result = work.finally(() => (finished = true));
  result.catch(() => {});
  for (let idle = 0; !finished; ) {
    await settle();
    if (finished) break;
    if (clock.nextTimer === undefined) {
      // With real I/O in flight (a local server), give it more rounds of the event loop.
      if (++idle > idleRounds) throw new Error("the work waits with no timer pending");
      continue;
    }
    idle = 0;
    await clock.advance(clock.nextTimer - clock.now());
  }
  return result;
}

/** Lets every pending promise callback run (a few macrotask turns' worth of microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Each element or error (as `{ error: message }`) of `s`, with the time it came out on `clock`. */
export async function timeline<T>(clock: ManualClock, s: Stream<T>): Promise<[number, T | { error: string }][]> {
  const it = s.iterateAsync({ clock, afterError: "resume" });
  const out: [number, T | { error: string }][] = [];
  for (;;) {
    try {
      const r = await it.next();
      if (r.done) return out;
      out.push([clock.now(), r.value]);
    } catch (e) {
      out.push([clock.now(), { error: (e as Error).message }]);
    }
  }
}
