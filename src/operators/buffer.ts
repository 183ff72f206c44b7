import { integer } from "../internal/validate.js";
import { END, Stage, closeBehindPull, type Operator, type Outcome } from "../core/stage.js";

export interface BufferNode {
  readonly op: "buffer";
  /** Most elements (and errors) waiting for the consumer. */
  readonly upTo: number;
}

export function bufferNode(upTo: unknown): BufferNode {
  return Object.freeze({ op: "buffer", upTo: integer("upTo", upTo, 1) });
}

const ENDED: Outcome = { ok: true, value: END };

/**
 * Pulls upstream ahead of the consumer, in the background, into a queue of at
 * most `upTo` elements; errors wait in the queue in their place. The worker
 * starts at the first `next()` and stops when upstream ends or the stream closes.
 */
class BufferStage extends Stage {
  readonly #upstream: Stage;
  readonly #upTo: number;
  readonly #queue: Outcome[] = [];
  #worker: Promise<void> | undefined;
  /** Wakes the consumer when the queue gets an item. */
  #itemAdded: (() => void) | undefined;
  /** Wakes the worker when the queue gets room (or the stream closes). */
  #roomMade: (() => void) | undefined;
  #closed = false;
  #ended = false;
  /** The worker waits on an upstream pull now. */
  #pulling = false;

  constructor(upstream: Stage, node: BufferNode) {
    super();
    this.#upstream = upstream;
    this.#upTo = node.upTo;
  }

  async next(): Promise<IteratorResult<unknown>> {
    this.#worker ??= this.#work();
    while (this.#queue.length === 0) {
      if (this.#closed || this.#ended) return END;
      await new Promise<void>((resolve) => (this.#itemAdded = resolve));
    }
    const outcome = this.#queue.shift()!;
    this.#wake("roomMade");
    if (outcome === ENDED) {
      this.#ended = true;
      return END;
    }
    if (outcome.ok) return { done: false, value: outcome.value };
    throw outcome.error;
  }

  async #work(): Promise<void> {
    while (!this.#closed) {
      if (this.#queue.length >= this.#upTo) {
        await new Promise<void>((resolve) => (this.#roomMade = resolve));
        continue;
      }
      let outcome: Outcome;
      this.#pulling = true;
      try {
        const pulled = await this.#upstream.next();
        outcome = pulled.done ? ENDED : { ok: true, value: pulled.value };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        this.#pulling = false;
      }
      if (this.#closed) return;
      this.#queue.push(outcome);
      this.#wake("itemAdded");
      if (outcome === ENDED) return;
    }
  }

  #wake(which: "itemAdded" | "roomMade"): void {
    const resolve = which === "itemAdded" ? this.#itemAdded : this.#roomMade;
    if (which === "itemAdded") this.#itemAdded = undefined;
    else this.#roomMade = undefined;
    resolve?.();
  }

  /** Stops the worker, drops what it buffered, and closes upstream. */
  async return(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#wake("itemAdded");
    this.#wake("roomMade");
    // The worker's pull in flight, if any, settles into a closed buffer and is dropped.
    await closeBehindPull(this.#upstream, this.#pulling);
  }
}

export const buffer: Operator<BufferNode> = {
  explain: (n) => `buffer(${n.upTo})`,
  asyncOnly: (n) => `${buffer.explain(n)} runs only in async iteration`,
  stage: (up, n) => new BufferStage(up, n),
};
