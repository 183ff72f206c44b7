import { isPromise } from "../internal/promise.js";
import { Queue, Ring, type Entry } from "./queue.js";
import { closeBehindPull, END, PAUSED, Stage, type CallOptions, type Drained, type Pulled, type Sink } from "./stage.js";

/** An element's task: its result now, or a promise of it. */
export type Task = (value: unknown, options: CallOptions) => unknown;

export interface PoolOptions {
  readonly concurrency: number;
  /** Yield in completion order instead of upstream order. */
  readonly asCompleted: boolean;
  /**
   * Pull one element beyond the free slots, to start it the moment a slot frees.
   * Off after a `throttle`, which stamps an element when it leaves: an element
   * pulled ahead would start its call later than its stamp, and more than the
   * quota could start in a window. @default true
   */
  readonly pullAhead?: boolean;
  /** Aborted when the stage closes: the signal its calls got, so the calls in flight hear it (and a worker pool drops what waits). */
  readonly calls?: AbortController;
}

/**
 * The concurrency engine under `map` and `do` with `concurrency > 1`.
 *
 * At most `concurrency` tasks run at once. Pulls from upstream happen one at a
 * time, on the consumer's calls: before waiting for a result, the stage keeps
 * `concurrency + 1` elements submitted and not yet yielded (the extra one waits
 * for a free slot and starts the moment one frees). That bounds memory, whatever
 * the stream's length, and keeps every slot busy while the consumer keeps up.
 *
 * In order (default), results come out in upstream order, so a slow head holds
 * back results already finished; an upstream error keeps its place. As completed,
 * results come out as they settle, and an upstream error comes out at once.
 * `next()` answers synchronously when a result is ready: no promise per element
 * beyond the calls' own.
 */
export class ConcurrentStage extends Stage {
  readonly #upstream: Stage;
  readonly #task: Task;
  readonly #options: CallOptions;
  readonly #concurrency: number;
  /** Elements submitted and not yet yielded, at most, before waiting: `concurrency + 1`, or `concurrency` without pull-ahead. */
  readonly #submittedAtMost: number;
  readonly #calls: AbortController | undefined;
  /** Submitted and not yet yielded, in upstream order (in order) or completion order (as completed). */
  readonly #queue: Queue;
  /** Entries pulled and waiting for a free slot; each holds its element as `value` until it starts. */
  readonly #waiting = new Ring<Entry>();
  /** Calls running now. */
  #active = 0;
  /** Resolves once no call runs, after close. */
  #idle: (() => void) | undefined;
  #upstreamDone = false;
  #closed = false;
  /** The upstream pull in flight, if any: one at a time. */
  #pulling: Promise<void> | undefined;

  constructor(upstream: Stage, task: Task, pool: PoolOptions, options: CallOptions) {
    super();
    this.#upstream = upstream;
    this.#task = task;
    this.#options = options;
    this.#concurrency = pool.concurrency;
    this.#queue = new Queue(pool.asCompleted ? "asCompleted" : "ordered");
    this.#submittedAtMost = pool.pullAhead === false ? pool.concurrency : pool.concurrency + 1;
    this.#calls = pool.calls;
  }

  next(): Pulled {
    this.#fill();
    return this.#yield();
  }

  /** Pulls upstream, one element at a time, and submits, until `concurrency + 1` wait to be yielded or a pull is pending. */
  #fill(): void {
    while (this.#pulling === undefined && !this.#closed && !this.#upstreamDone && this.#queue.size < this.#submittedAtMost) {
      let pulled: Pulled;
      try {
        pulled = this.#upstream.next();
      } catch (error) {
        this.#queue.addFailure(error); // an upstream error takes a slot as an already settled result
        continue;
      }
      if (isPromise(pulled)) {
        // The pull goes on while results that are ready come out: a slow source does not hold back finished work.
        this.#pulling = Promise.resolve(pulled).then(this.#afterPull, this.#afterPullError); // native, whatever thenable upstream answered
        break;
      }
      this.#take(pulled);
    }
  }

  /**
   * Push mode: the results that are ready, to `sink`. The base class's loop,
   * kept here so that the engine sees only this stage at its calls (the
   * concurrency stage is a hot path: W5, W6, the job).
   */
  override drain(sink: Sink): Drained {
    const queue = this.#queue;
    for (;;) {
      this.#fill();
      if (this.#closed) return END;
      const head = queue.take();
      if (head === undefined) return this.#wait();
      if (head.state !== "fulfilled") throw head.value;
      if (sink(head.value) === true) return PAUSED; // no result object per element
    }
  }

  readonly #afterPull = (pulled: IteratorResult<unknown>): void => {
    this.#pulling = undefined;
    this.#take(pulled);
  };

  readonly #afterPullError = (error: unknown): void => {
    this.#pulling = undefined;
    if (!this.#closed) this.#queue.addFailure(error);
  };

  #take(pulled: IteratorResult<unknown>): void {
    if (this.#closed) return; // an answer that comes after close is dropped: no call starts then
    if (pulled.done) this.#upstreamDone = true;
    else this.#submit(pulled.value);
  }

  /** The next result if one is ready, else a promise of it. */
  #yield(): Pulled {
    if (this.#closed) return END;
    const queue = this.#queue;
    const head = queue.take();
    if (head === undefined) return this.#wait();
    if (head.state === "fulfilled") return { done: false, value: head.value };
    throw head.value;
  }

  /** No result is ready: END once nothing is left, else the promise of the next result. */
  #wait(): Pulled {
    const queue = this.#queue;
    const pulling = this.#pulling;
    if (pulling === undefined) return queue.size === 0 ? END : queue.settling().then(this.#yieldLater);
    // Whichever comes first: the pull's answer (it may start a call, or end the stream) or a result.
    return (queue.size === 0 ? pulling : Promise.race([pulling, queue.settling()])).then(this.#nextLater);
  }

  readonly #yieldLater = (): Pulled => this.#yield();

  readonly #nextLater = (): Pulled => this.next();

  #submit(value: unknown): void {
    const entry = this.#queue.add(value);
    if (this.#active < this.#concurrency) this.#start(entry);
    else this.#waiting.push(entry);
  }

  #start(entry: Entry): void {
    this.#active++;
    let out: unknown;
    try {
      out = this.#task(entry.value, this.#options);
    } catch (error) {
      return this.#queue.fail(entry, error, this.#finished);
    }
    this.#queue.settle(entry, out, this.#finished);
  }

  /** A call settled: its slot goes to the next waiting element. */
  readonly #finished = (): void => {
    this.#active--;
    const waiting = this.#waiting.shift();
    if (waiting !== undefined && !this.#closed) this.#start(waiting);
    if (this.#active === 0) this.#idle?.();
  };

  /** Closes upstream, drops the elements that never started, aborts the calls' signal, and waits for the running calls to settle. */
  async return(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting.clear();
    this.#queue.clear();
    this.#calls?.abort(new Error("the iteration ended early"));
    const idle = this.#active === 0 ? undefined : new Promise<void>((resolve) => (this.#idle = resolve));
    // Upstream closes behind a pull still in flight, which a source (a queue with nothing in it) may never answer.
    await Promise.all([closeBehindPull(this.#upstream, this.#pulling !== undefined), idle]);
  }
}
