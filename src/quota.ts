import { systemClock, type Clock } from "./internal/clock.js";
import { show } from "./internal/show.js";

/** A rate limit: at most `upTo` calls in any sliding window of `per` milliseconds. */
export interface Quota {
  readonly upTo: number;
  /** Milliseconds. */
  readonly per: number;
  /**
   * Where a call's place in the window starts and ends. `"start"`: a place is
   * taken when the call starts and lasts `per`. `"settled"`: it is taken when the
   * call starts and lasts until `per` after the call settles, so the calls that
   * reach a server inside any `per` are at most `upTo`, whatever the latency.
   */
  readonly from: "start" | "settled";
}

/** A place in a window, held by one call. */
export interface Place {
  /** The call settled (resolved or rejected): with `from: "settled"`, the place is held `per` more from now. */
  release(): void | Promise<void>;
}

/**
 * Where the windows of quotas are kept, by key. The in-process store is the
 * default; a shared one (Redis, from `streamable-ts/redis`) lets processes
 * share a quota. Small enough to write for another backend:
 *
 * - `acquire` resolves once `key`'s window has a free place for `quota`, with
 *   that place taken; it waits as long as it must. When `signal` aborts first, it
 *   rejects with the signal's reason and takes no place.
 * - Two users of one key with different quotas is a mistake: `acquire` rejects
 *   with an error that names both.
 */
export interface ThrottleStore {
  acquire(key: string, quota: Quota, signal?: AbortSignal): Promise<Place>;
}

/** Checks the `store` and `key` options of `throttle` and `throttling` (each says whether they go together), naming what is wrong. */
export function checkStoreAndKey(store: unknown, key: unknown): void {
  if (store !== undefined && (store === null || typeof (store as Partial<ThrottleStore>).acquire !== "function")) {
    throw new TypeError(`\`store\` must have \`acquire(key, quota, signal)\`, got ${show(store)}`);
  }
  if (key !== undefined && (typeof key !== "string" || key === "")) throw new TypeError(`\`key\` must be a non-empty string, got ${show(key)}`);
}

/** `quota` as written in errors and `explain()`: `16 per 1000 ms from settled`. */
export function showQuota(quota: Quota): string {
  return `${quota.upTo} per ${quota.per} ms from ${quota.from}`;
}

/**
 * One key's window in this process: the places held, as the times they end.
 * Calls in flight under `"settled"` hold a place with no end yet; a released
 * place's end is `per` after its release, and releases come in time order, so
 * ends are kept in one queue, oldest first, and read from its head.
 */
class KeyWindow {
  readonly quota: Quota;
  /** Places whose end is known, in the order they end. */
  readonly #ends: number[] = [];
  #head = 0;
  /** Places held by calls in flight (`"settled"` only). */
  #inFlight = 0;
  /** Wakes the waiting `acquire` when a place may have freed. */
  #wake: (() => void) | undefined;

  constructor(quota: Quota) {
    this.quota = quota;
  }

  /** Takes a place if one is free at `now`; else answers when to look again (Infinity: at the next release). */
  tryTake(now: number): number | undefined {
    while (this.#head < this.#ends.length && this.#ends[this.#head]! <= now) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#ends.length) this.#ends.splice(0, this.#head), (this.#head = 0);
    const held = this.#ends.length - this.#head + this.#inFlight;
    if (held < this.quota.upTo) {
      if (this.quota.from === "start") this.#ends.push(now + this.quota.per);
      else this.#inFlight++;
      return undefined;
    }
    return this.#head < this.#ends.length ? this.#ends[this.#head]! : Infinity;
  }

  release(now: number): void {
    this.#inFlight--;
    this.#ends.push(now + this.quota.per);
    this.#wakeUp();
  }

  /** A promise that settles at the next release (a waiter for an end of unknown time). */
  nextRelease(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * The default {@link ThrottleStore}: exact sliding windows kept in this process.
 * Waiting callers take their turn in the order they asked, per key.
 *
 * @example One quota shared by two wrapped functions
 * ```ts
 * const store = memoryStore();
 * const limit = { upTo: 16, per: "1s", store, key: "partner-api" } as const;
 * const postUsers = throttling(async (batch: number[]) => batch.length, limit);
 * const postOrders = throttling(async (batch: number[]) => batch.length, limit);
 * await Promise.all([postUsers([1, 2]), postOrders([3])]); // → [2, 1]
 * ```
 */
export function memoryStore(options: { readonly clock?: Clock } = {}): ThrottleStore {
  const clock = options.clock ?? systemClock;
  const windows = new Map<string, KeyWindow>();
  /** Per key, the latest caller's turn: callers take places in the order they asked. */
  const turns = new Map<string, Promise<unknown>>();

  const windowOf = (key: string, quota: Quota): KeyWindow => {
    let window = windows.get(key);
    if (window === undefined) windows.set(key, (window = new KeyWindow(quota)));
    else if (window.quota.upTo !== quota.upTo || window.quota.per !== quota.per || window.quota.from !== quota.from) {
      throw new Error(`the quota ${show(key)} is set as ${showQuota(window.quota)} already; this call asks for ${showQuota(quota)}`);
    }
    return window;
  };

  const take = async (window: KeyWindow, signal: AbortSignal | undefined): Promise<Place> => {
    for (;;) {
      signal?.throwIfAborted();
      const next = window.tryTake(clock.now());
      if (next === undefined) break;
      if (next === Infinity) await untilAborted(window.nextRelease(), signal);
      else await clock.sleep(next - clock.now(), signal);
    }
    if (window.quota.from === "start") return NOTHING_TO_RELEASE;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        window.release(clock.now());
      },
    };
  };

  return {
    acquire(key, quota, signal) {
      let window: KeyWindow;
      try {
        window = windowOf(key, quota);
      } catch (error) {
        return Promise.reject(error);
      }
      const turn = (turns.get(key) ?? Promise.resolve()).then(() => take(window, signal));
      turns.set(key, turn.catch(() => {})); // an aborted caller does not block the ones after it
      return turn;
    },
  };
}

const NOTHING_TO_RELEASE: Place = { release() {} };

/** `promise`, or the signal's reason when it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}

/**
 * A shared store could not answer (its server is unreachable, a script
 * failed): the error a store throws in place of the engine's own, with it as
 * `cause`. `retry` takes it as a passing failure, as any error.
 */
export class ThrottleStoreError extends Error {
  override readonly name = "ThrottleStoreError";
}
