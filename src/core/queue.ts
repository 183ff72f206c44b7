import { isPromise } from "../internal/promise.js";

/** One piece of work in a {@link Queue}: pending, or settled with its outcome, kept in place (no object per outcome: a hot path). */
export interface Entry {
  state: "pending" | "fulfilled" | "failed";
  /** Whatever the owner keeps here until the work starts (the pool: the element); then the result, or the error. */
  value: unknown;
  /** Settles once the entry has (ordered waits on the head's); undefined for work that settled at once or has not started. */
  settled: Promise<void> | undefined;
  /** Where the work came from, for an owner that needs to know (round-robin: the inner iterator). */
  readonly from: unknown;
}

/**
 * The queue engine under `map`/`do` with concurrency (core/pool.ts),
 * `flatten`'s round-robin, `buffer` and `group` within: work that settles now
 * or later, taken from the head, failures carried as values in their places.
 *
 * - `"ordered"`: an entry takes its place when it is added, so a slow head
 *   holds back entries settled after it (map in order, buffer, round-robin,
 *   where each inner iterator's next request is added at the back).
 * - `"asCompleted"`: an entry takes its place when it settles.
 *
 * One consumer waits at a time (the stage's runner keeps calls in turn).
 */
export class Queue {
  readonly #entries: Entry[] = [];
  readonly #asCompleted: boolean;
  /** As completed: entries added and not yet settled (they have no place yet). */
  #unsettled = 0;
  /** Wakes the consumer waiting in {@link take} for an entry to settle. */
  #wake: (() => void) | undefined;

  constructor(order: "ordered" | "asCompleted") {
    this.#asCompleted = order === "asCompleted";
  }

  /** Entries added and not yet taken, settled or not. */
  get size(): number {
    return this.#entries.length + this.#unsettled;
  }

  /** A pending entry for work about to start (or waiting to), holding `value` until then. */
  add(value?: unknown, from?: unknown): Entry {
    const entry: Entry = { state: "pending", value, settled: undefined, from };
    if (this.#asCompleted) this.#unsettled++;
    else this.#entries.push(entry);
    return entry;
  }

  /** A failure that is already settled (an upstream error): it takes its place now, in either order. */
  addFailure(error: unknown, from?: unknown): void {
    this.#entries.push({ state: "failed", value: error, settled: undefined, from });
    this.#wakeConsumer();
  }

  /**
   * Settles `entry` with `out`: a value now, or a promise that settles it
   * later (its rejection becomes a failure at once: never an unhandled
   * rejection, even once nobody waits). `then` runs after it settles.
   */
  settle(entry: Entry, out: unknown, then?: () => void): void {
    if (!isPromise(out)) return this.#settle(entry, "fulfilled", out, then);
    entry.settled = Promise.resolve(out).then(
      (value) => this.#settle(entry, "fulfilled", value, then),
      (error: unknown) => this.#settle(entry, "failed", error, then),
    );
  }

  /** Settles `entry` as failed with `error` now. */
  fail(entry: Entry, error: unknown, then?: () => void): void {
    this.#settle(entry, "failed", error, then);
  }

  #settle(entry: Entry, state: Entry["state"], value: unknown, then: (() => void) | undefined): void {
    entry.state = state;
    entry.value = value;
    if (this.#asCompleted) {
      this.#unsettled--;
      this.#entries.push(entry);
    }
    then?.();
    this.#wakeConsumer();
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    wake();
  }

  /** The head, taken, when it has settled; undefined when it has not, or the queue is empty (see {@link size}). */
  take(): Entry | undefined {
    const head = this.#entries[0];
    if (head === undefined || head.state === "pending") return undefined;
    this.#entries.shift();
    return head;
  }

  /** Settles when the head may have settled (take again then). */
  settling(): Promise<void> {
    const head = this.#entries[0];
    if (head?.settled !== undefined) return head.settled;
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** Drops every entry, and wakes a consumer waiting: the stage is closing. */
  clear(): void {
    this.#entries.length = 0;
    this.#wakeConsumer();
  }
}
