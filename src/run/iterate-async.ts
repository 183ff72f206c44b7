import { isPromise } from "../internal/promise.js";
import { element, END, PAUSED, Resume, type Drained, type Pulled, type Sink, type Stage } from "../core/stage.js";
import type { Plan } from "../plan.js";
import { buildStages, runContext, type IterateOptions, type IteratorOptions } from "./iterate.js";

/**
 * One async iteration of a plan, as the runner's hybrid stages see it: `next()`
 * answers synchronously when it can. Terminals loop on it directly; users get
 * it wrapped in an {@link AsyncStreamIterator}.
 */
export class AsyncRun {
  readonly #head: Stage;
  readonly #controller: AbortController;
  readonly #signal: AbortSignal | undefined;
  #closed = false;
  /** Settles once every stage is closed and the calls in flight have settled; set by the first `return()`. */
  #closing: Promise<void> | undefined;

  constructor(plan: Plan, options: IterateOptions = {}) {
    const context = runContext("async", options);
    this.#controller = context.controller;
    this.#signal = options.signal;
    this.#head = buildStages(plan, context);
  }

  /** The next result; a pending one loses the race against the signal's abort. */
  next(): Pulled {
    const signal = this.#signal;
    if (signal?.aborted) return this.#abort(signal);
    const pulled = this.#closed ? END : this.#head.next();
    if (signal === undefined || !isPromise(pulled)) return pulled;
    return new Promise<IteratorResult<unknown>>((resolve, reject) => {
      const onAbort = () => this.#abort(signal).catch(reject);
      signal.addEventListener("abort", onAbort, { once: true });
      pulled.then(
        (result) => (signal.removeEventListener("abort", onAbort), resolve(result)),
        (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
      );
    });
  }

  /**
   * Push mode (see {@link Stage.drain}): the head hands the elements that are
   * ready to `sink`. With a signal, one `next()`, which races the signal.
   */
  drain(sink: Sink): Drained {
    if (this.#signal !== undefined || this.#closed) return this.next();
    return this.#head.drain(sink);
  }

  /**
   * Closes every stage down to the source, once, and aborts the signal handed
   * to callbacks. Every call settles when the closing does: after the calls in flight.
   */
  return(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    // After the run's signal, the callbacks hear its reason; else that the iteration ended early.
    const signal = this.#signal;
    this.#controller.abort(signal?.aborted ? signal.reason : new Error("the iteration ended early"));
    let closing: void | Promise<void>;
    try {
      closing = this.#head.return();
    } catch (error) {
      closing = Promise.reject(error);
    }
    return (this.#closing = Promise.resolve(closing));
  }

  /**
   * Closes the run on the way out of an early end, an error or not, and
   * settles once it is closed. After an abort of the run's signal it settles
   * at once: the caller is answered, and the closing goes on (calls in flight
   * may be slow to hear the abort).
   */
  closeOnExit(): Promise<void> {
    const closing = this.return();
    if (!this.#signal?.aborted) return closing;
    closing.catch(() => {}); // answered already: a failure to close has no one left to reach
    return Promise.resolve();
  }

  #abort(signal: AbortSignal): Promise<never> {
    // Closing may wait on work in flight; the caller is answered at once.
    this.return().catch(() => {});
    return Promise.reject(signal.reason);
  }
}

/**
 * The iterator a user holds in async iteration (`for await`). An error rejects
 * that `next()`; by default the iteration is closed first, down to the source,
 * as a generator's is (see {@link IteratorOptions.afterError}); with `"resume"`
 * the following `next()` goes on with the next element. Calls made before the
 * previous one settled wait their turn.
 */
export class AsyncStreamIterator<T> implements AsyncIterableIterator<T> {
  readonly #run: AsyncRun;
  /** The latest call still pending, when there is one; later calls wait for it. */
  #pending: Promise<unknown> | undefined;
  /** Calls waiting behind a pending one. */
  #queued = 0;
  /**
   * A call is in `#loop`. A flag, not its promise in `#pending`: storing a new
   * promise per call into this long-lived object costs the garbage collector's
   * write barrier (cachegrind: 60 instructions per element in W3). A call that
   * comes meanwhile starts the queue on `#wake`.
   */
  #looping = false;
  #wake: (() => void) | undefined;
  /** The element the head handed to `#takeOne`. */
  #taken: unknown;
  /** What an error does on its way to the caller: closes the run first, or passes as it is. */
  readonly #onError: (error: unknown) => never | Promise<never>;

  constructor(plan: Plan, options: IteratorOptions = {}) {
    this.#run = new AsyncRun(plan, options);
    this.#onError = options.afterError === "resume" ? rethrow : this.#closeThenThrow;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#pending !== undefined || this.#looping) {
      this.#queued++;
      this.#pending ??= new Promise<void>((wake) => (this.#wake = wake));
      const answer = this.#pending.then(this.#pullQueued, this.#pullQueued);
      this.#pending = answer;
      return answer;
    }
    let drained: Drained;
    try {
      drained = this.#run.drain(this.#takeOne);
    } catch (error) {
      return Promise.resolve(error).then(this.#onError);
    }
    // An answer at once (a sync source, a ready run): no async call.
    if (drained === PAUSED) return Promise.resolve(element(this.#taken as T));
    if (!(drained instanceof Resume || drained instanceof Promise || isPromise(drained))) return Promise.resolve(drained as IteratorResult<T>);
    // Set before the call: a loop that answers at once has settled by the time it returns.
    this.#looping = true;
    return this.#loop(drained) as Promise<IteratorResult<T>>;
  }

  /**
   * The rest of a `next()` whose answer is pending, as one async call that
   * awaits it: a {@link Resume} (steps over an async source) costs no promise
   * beyond upstream's own. Every stage gets this path through its `drain`.
   */
  async #loop(drained: Drained): Promise<IteratorResult<unknown>> {
    let answer: IteratorResult<unknown>;
    try {
      while (drained instanceof Resume) drained = drained.resume(await drained.pending);
      // `instanceof` first: the usual promise is known without looking up `then`.
      answer = (drained instanceof Promise || isPromise(drained) ? await drained : drained) as IteratorResult<unknown>;
    } catch (error) {
      this.#settledInLoop();
      return this.#onError(error);
    }
    this.#settledInLoop();
    return answer === PAUSED ? element(this.#taken) : answer;
  }

  // Bound once: settling a call costs no closure.
  readonly #takeOne = (value: unknown): true => {
    this.#taken = value;
    return true;
  };

  /** A call made while another was pending: pulls once the calls before it settled. */
  readonly #pullQueued = (): Promise<IteratorResult<T>> => {
    this.#queued--;
    let pulled: Pulled;
    try {
      pulled = this.#run.next();
    } catch (error) {
      pulled = Promise.reject(error);
    }
    return Promise.resolve(pulled).then(this.#settled, this.#failed) as Promise<IteratorResult<T>>;
  };

  /** A call in the head's loop is answered: the next call may loop, or the first one waiting goes on. */
  readonly #settledInLoop = (): void => {
    this.#looping = false;
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    wake();
  };

  /** A call outside the loop is answered; the queue is empty again once no call waits. */
  readonly #settled = (result: IteratorResult<unknown>): IteratorResult<unknown> => {
    if (this.#queued === 0) this.#pending = undefined;
    return result;
  };

  readonly #failed = (error: unknown): never | Promise<never> => {
    if (this.#queued === 0) this.#pending = undefined;
    return this.#onError(error);
  };

  /** An error on its way out: the run is closed (calls in flight settled), then the caller gets the error. */
  readonly #closeThenThrow = (error: unknown): Promise<never> => {
    const fail = (): never => {
      throw error; // the error at hand wins over a failure to close, as when a loop body throws
    };
    return this.#run.closeOnExit().then(fail, fail);
  };

  async return(value?: unknown): Promise<IteratorResult<T>> {
    await this.#run.return();
    return { value: value as T, done: true }; // END's hidden class, not an element's (see END)
  }

  /** `await using it = s.iterateAsync()`: leaving the scope closes the iteration, as `return()` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function rethrow(error: unknown): never {
  throw error;
}
