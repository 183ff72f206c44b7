import { isPromise } from "../internal/promise.js";

/**
 * One piece of work in a {@link Queue}: pending, or settled with its outcome, kept in place.
 * Entries are recycled: once taken, an entry is the queue's again at the next {@link Queue.take},
 * so an owner reads a taken entry at once and keeps no reference to it.
 */
export interface Entry {
  state: "pending" | "fulfilled" | "failed";
  /** Whatever the owner keeps here until the work starts (the pool: the element); then the result, or the error. */
  value: unknown;
  /** Settles once the entry has (ordered waits on the head's); undefined for work that settled at once or has not started. */
  settled: Promise<void> | undefined;
  /** Where the work came from, for an owner that needs to know (round-robin: the inner iterator). */
  from: unknown;
}

/** An entry with its promise handlers, made once and reused with it: no closure per element (W6). */
class Slot implements Entry {
  state: Entry["state"] = "pending";
  value: unknown = undefined;
  settled: Promise<void> | undefined = undefined;
  from: unknown = undefined;
  /** What to run after it settles, for this use of the slot. */
  after: (() => void) | undefined = undefined;
  readonly onFulfilled: (value: unknown) => void;
  readonly onRejected: (error: unknown) => void;
  constructor(settle: (slot: Slot, state: Entry["state"], value: unknown) => void) {
    this.onFulfilled = (value) => settle(this, "fulfilled", value);
    this.onRejected = (error) => settle(this, "failed", error);
  }
}

/** A first-in first-out list on a growing circular array: no `shift()`, which copies, per element. */
class Ring<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  length = 0;
  push(item: T): void {
    if (this.length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.length++) & (this.#items.length - 1)] = item;
  }
  peek(): T | undefined {
    return this.length === 0 ? undefined : this.#items[this.#head];
  }
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.length--;
    return item;
  }
  clear(): void {
    this.#items = new Array(16);
    this.#head = 0;
    this.length = 0;
  }
  #grow(): void {
    const items: (T | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.length; i++) items[i] = this.#items[(this.#head + i) & (this.#items.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}

export { Ring };

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
 * Entries and their promise handlers are reused, so a settled call costs the
 * queue no allocation beyond the `then` of its promise.
 */
export class Queue {
  /**
   * The entries in their order, on a circular array (no `shift()`, which copies, per element).
   * In order, the slots stay in place: an entry added takes the slot at the tail, which a
   * take left free. As completed, the array holds the settled slots in the order they settled,
   * and the slots come from `#free`.
   */
  #ring: (Slot | undefined)[] = new Array(16);
  #mask = 15;
  #head = 0;
  #length = 0;
  readonly #asCompleted: boolean;
  /** As completed: entries added and not yet settled (they have no place yet). */
  #unsettled = 0;
  /** Wakes the consumer waiting in {@link take} for an entry to settle. */
  #wake: (() => void) | undefined;
  /** As completed: slots to reuse. */
  readonly #free: Slot[] = [];
  /** The slot taken last, which its owner reads: emptied at the next take. */
  #taken: Slot | undefined;
  readonly #settleSlot = (slot: Slot, state: Entry["state"], value: unknown): void => this.#settle(slot, state, value);

  constructor(order: "ordered" | "asCompleted") {
    this.#asCompleted = order === "asCompleted";
  }

  /** Entries added and not yet taken, settled or not. */
  get size(): number {
    return this.#length + this.#unsettled;
  }

  /** A pending entry for work about to start (or waiting to), holding `value` until then. */
  add(value?: unknown, from?: unknown): Entry {
    let slot: Slot;
    if (this.#asCompleted) {
      slot = this.#free.pop() ?? new Slot(this.#settleSlot);
      this.#unsettled++;
    } else slot = this.#atTail();
    slot.state = "pending";
    slot.value = value;
    slot.from = from;
    return slot;
  }

  /** A failure that is already settled (an upstream error): it takes its place now, in either order. */
  addFailure(error: unknown, from?: unknown): void {
    const slot = this.#asCompleted ? this.#push(this.#free.pop() ?? new Slot(this.#settleSlot)) : this.#atTail();
    slot.state = "failed";
    slot.value = error;
    slot.from = from;
    this.#wakeConsumer();
  }

  /**
   * The slot at the tail, taken into the list. The one taken last stays out of reach (the list
   * grows while one place is left), so its owner reads it before anything reuses it.
   */
  #atTail(): Slot {
    if (this.#length === this.#mask) this.#grow();
    const at = (this.#head + this.#length++) & this.#mask;
    return (this.#ring[at] ??= new Slot(this.#settleSlot));
  }

  /** As completed: `slot` at the tail of the list, now that it settled. */
  #push(slot: Slot): Slot {
    if (this.#length === this.#mask) this.#grow();
    this.#ring[(this.#head + this.#length++) & this.#mask] = slot;
    return slot;
  }

  /** Twice the places, the entries from the first one on (the free slots are made again as needed). */
  #grow(): void {
    const ring: (Slot | undefined)[] = new Array(this.#ring.length * 2);
    for (let i = 0; i < this.#length; i++) ring[i] = this.#ring[(this.#head + i) & this.#mask];
    this.#ring = ring;
    this.#mask = ring.length - 1;
    this.#head = 0;
  }

  /**
   * Settles `entry` with `out`: a value now, or a promise that settles it
   * later (its rejection becomes a failure at once: never an unhandled
   * rejection, even once nobody waits). `then` runs after it settles.
   */
  settle(entry: Entry, out: unknown, then?: () => void): void {
    const slot = entry as Slot;
    slot.after = then;
    // `instanceof` first: the usual promise is known without looking up `then`.
    if (out instanceof Promise) slot.settled = out.then(slot.onFulfilled, slot.onRejected);
    else if (isPromise(out)) slot.settled = Promise.resolve(out).then(slot.onFulfilled, slot.onRejected);
    else this.#settle(slot, "fulfilled", out);
  }

  /** Settles `entry` as failed with `error` now. */
  fail(entry: Entry, error: unknown, then?: () => void): void {
    const slot = entry as Slot;
    slot.after = then;
    this.#settle(slot, "failed", error);
  }

  #settle(slot: Slot, state: Entry["state"], value: unknown): void {
    slot.state = state;
    slot.value = value;
    if (this.#asCompleted) {
      this.#unsettled--;
      this.#push(slot);
    }
    const after = slot.after;
    slot.after = undefined;
    after?.();
    this.#wakeConsumer();
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    wake();
  }

  /**
   * The head, taken, when it has settled; undefined when it has not, or the queue is empty (see
   * {@link size}). Read it at once: it is reused from the next take on.
   */
  take(): Entry | undefined {
    if (this.#length === 0) return undefined;
    const head = this.#ring[this.#head]!;
    if (head.state === "pending") return undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    const last = this.#taken;
    if (last !== undefined) {
      last.value = last.from = undefined; // nothing of an element stays reachable from a free slot (`settled` holds none)
      last.settled = undefined;
      if (this.#asCompleted) this.#free.push(last);
    }
    this.#taken = head;
    return head;
  }

  /** Settles when the head may have settled (take again then). */
  settling(): Promise<void> {
    const head = this.#length === 0 ? undefined : this.#ring[this.#head];
    if (head?.settled !== undefined) return head.settled;
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** Drops every entry, and wakes a consumer waiting: the stage is closing. Entries still pending are not reused. */
  clear(): void {
    this.#ring = new Array(16);
    this.#mask = 15;
    this.#head = this.#length = 0;
    this.#free.length = 0;
    this.#taken = undefined;
    this.#wakeConsumer();
  }
}
