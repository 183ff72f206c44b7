import { END, type AsyncPull, type CallOptions } from "../plan.js";
import { isPromise } from "./promise.js";

/** A settled call, carried as a value so a failure keeps its place until it is yielded. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

const failed = (error: unknown): Outcome => ({ ok: false, error });

/** An element's task: its outcome now, or once its promise settles. */
export type Task = (value: unknown, options: CallOptions) => unknown;

export interface PoolOptions {
  readonly concurrency: number;
  /** Yield in completion order instead of upstream order. */
  readonly asCompleted: boolean;
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
 */
export class ConcurrentStage implements AsyncPull {
  readonly #upstream: AsyncPull;
  readonly #task: Task;
  readonly #options: CallOptions;
  readonly #concurrency: number;
  readonly #asCompleted: boolean;

  /** In order: one promise of outcome per submitted element, in upstream order. */
  readonly #inOrder: Promise<Outcome>[] = [];
  /** As completed: the outcomes settled and not yet yielded, in completion order. */
  readonly #settled: Outcome[] = [];
  /** Wakes the consumer waiting for the next settled outcome (as completed). */
  #wake: (() => void) | undefined;
  /** Elements pulled and waiting for a free slot. */
  readonly #waiting: unknown[] = [];
  /** Tasks running now, to settle them on close. */
  readonly #running = new Set<Promise<unknown>>();
  /** Submitted and not yet yielded: running, waiting, and settled-unread. */
  #submitted = 0;
  #upstreamDone = false;
  #closed = false;

  constructor(upstream: AsyncPull, task: Task, pool: PoolOptions, options: CallOptions) {
    this.#upstream = upstream;
    this.#task = task;
    this.#options = options;
    this.#concurrency = pool.concurrency;
    this.#asCompleted = pool.asCompleted;
  }

  async next(): Promise<IteratorResult<unknown>> {
    while (!this.#closed && !this.#upstreamDone && this.#submitted <= this.#concurrency) {
      let pulled: IteratorResult<unknown>;
      try {
        const p = this.#upstream.next();
        pulled = isPromise(p) ? await p : p;
      } catch (error) {
        this.#submitSettled(failed(error)); // an upstream error takes a slot as an already settled result
        continue;
      }
      if (pulled.done) this.#upstreamDone = true;
      else this.#submit(pulled.value);
    }
    if (this.#closed || this.#submitted === 0) return END;
    const outcome = this.#asCompleted ? await this.#nextSettled() : await this.#inOrder.shift()!;
    if (outcome === undefined) return END; // closed while waiting
    this.#submitted--;
    if (outcome.ok) return { done: false, value: outcome.value };
    throw outcome.error;
  }

  #submit(value: unknown): void {
    this.#submitted++;
    if (this.#running.size < this.#concurrency) this.#start(value);
    else this.#waiting.push(value);
  }

  #submitSettled(outcome: Outcome): void {
    this.#submitted++;
    if (this.#asCompleted) this.#settle(outcome);
    else this.#inOrder.push(Promise.resolve(outcome));
  }

  #start(value: unknown): void {
    let out: unknown;
    try {
      out = this.#task(value, this.#options);
    } catch (error) {
      out = Promise.reject(error);
    }
    // The call's failure becomes a value at once: never an unhandled rejection, even after close.
    const settled: Promise<Outcome> = Promise.resolve(out).then(
      (v) => this.#finish(settled, { ok: true, value: v }),
      (e: unknown) => this.#finish(settled, failed(e)),
    );
    this.#running.add(settled);
    if (!this.#asCompleted) this.#inOrder.push(settled);
  }

  /** A call settled: it frees its slot for the next waiting element. */
  #finish(call: Promise<Outcome>, outcome: Outcome): Outcome {
    this.#running.delete(call);
    if (this.#asCompleted) this.#settle(outcome);
    if (this.#waiting.length > 0 && !this.#closed) this.#start(this.#waiting.shift());
    return outcome;
  }

  #settle(outcome: Outcome): void {
    this.#settled.push(outcome);
    this.#wake?.();
  }

  /** The next settled outcome in completion order, or undefined once the stage is closed. */
  async #nextSettled(): Promise<Outcome | undefined> {
    while (this.#settled.length === 0 && !this.#closed) await new Promise<void>((resolve) => (this.#wake = resolve));
    this.#wake = undefined;
    return this.#settled.shift();
  }

  /** Closes upstream, drops the elements that never started, and waits for the running calls to settle. */
  async return(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting.length = 0;
    this.#wake?.();
    await Promise.all([this.#upstream.return(), ...this.#running]);
  }
}
