import { integer } from "../internal/validate.js";
import { isPromise } from "../internal/promise.js";
import { Queue, type Entry } from "../core/queue.js";
import { END, Stage, closeBehindPull, type Operator, type Pulled } from "../core/stage.js";

export interface BufferNode {
  readonly op: "buffer";
  /** Most elements (and errors) waiting for the consumer. */
  readonly upTo: number;
}

export function bufferNode(upTo: unknown): BufferNode {
  return Object.freeze({ op: "buffer", upTo: integer("upTo", upTo, 1) });
}

/**
 * Pulls upstream ahead of the consumer, in the background, into the ordered
 * {@link Queue}, at most `upTo` elements ahead; errors wait in the queue in
 * their places. The pulls start at the first `next()`, one at a time, and stop
 * when upstream ends or the stream closes; each element taken makes room for
 * the next pull.
 */
class BufferStage extends Stage {
  readonly #upstream: Stage;
  readonly #upTo: number;
  readonly #queue = new Queue("ordered");
  /** A pull of upstream is in flight. */
  #pulling = false;
  /** Upstream answered its end (in the queue, behind the elements before it). */
  #ended = false;
  #closed = false;

  constructor(upstream: Stage, node: BufferNode) {
    super();
    this.#upstream = upstream;
    this.#upTo = node.upTo;
  }

  next(): Pulled {
    this.#pullAhead();
    const queue = this.#queue;
    const head = queue.take();
    if (head === undefined) return queue.size === 0 ? END : queue.settling().then(() => this.next()); // empty: ended, or closed
    this.#pullAhead(); // the room it leaves
    if (head.state === "failed") throw head.value;
    return head.value as IteratorResult<unknown>;
  }

  /** Pulls upstream into the queue, one pull at a time, while there is room. */
  #pullAhead(): void {
    while (!this.#pulling && !this.#ended && !this.#closed && this.#queue.size < this.#upTo) {
      const entry = this.#queue.add();
      let pulled: Pulled;
      try {
        pulled = this.#upstream.next();
      } catch (error) {
        this.#queue.fail(entry, error);
        continue;
      }
      if (isPromise(pulled)) {
        this.#pulling = true;
        this.#queue.settle(entry, pulled, () => this.#pulled(entry));
        return;
      }
      this.#queue.settle(entry, pulled);
      if (pulled.done) this.#ended = true;
    }
  }

  /** A pull settled: the end stops the pulls; else the next one goes, if there is room. */
  #pulled(entry: Entry): void {
    this.#pulling = false;
    if (entry.state === "fulfilled" && (entry.value as IteratorResult<unknown>).done) this.#ended = true;
    this.#pullAhead();
  }

  /** Stops the pulls, drops what was buffered, and closes upstream. */
  return(): void | Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.clear();
    // A pull in flight, if any, settles into a closed buffer and is dropped.
    return closeBehindPull(this.#upstream, this.#pulling);
  }
}

export const buffer: Operator<BufferNode> = {
  explain: (n) => `buffer(${n.upTo})`,
  asyncOnly: (n) => `${buffer.explain(n)} runs only in async iteration`,
  stage: (up, n) => new BufferStage(up, n),
};
