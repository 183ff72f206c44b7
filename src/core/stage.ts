/**
 * The stage protocol: what every stage of a run answers, the sentinels it
 * answers with, and the driver that lets one stage class serve both runners.
 * Everything under `operators/` is written against this module; the runners
 * (`run/`) drive chains of stages and know nothing of any operation.
 */
import type { Clock } from "../internal/clock.js";
import type { SignalLinks } from "../internal/links.js";
import { isPromise } from "../internal/promise.js";

/** A stage's answer: a result now, or a promise of one. */
export type Pulled = IteratorResult<unknown> | Promise<IteratorResult<unknown>>;

/**
 * Where a stage in push mode (see {@link Stage.drain}) hands an element. It
 * never throws; it returns true to stop upstream's loop right after that
 * element: `take` once it has its count, `observe` while its `do` settles, a
 * terminal's loop when it must await, or whatever stage downstream asked so.
 */
export type Sink = (value: unknown) => boolean | void;

/**
 * Upstream's pending answer and what the stage does with it: the runner awaits
 * `pending` itself, then calls `resume`, which answers as `drain` does (its
 * elements come back as results, not through the sink). A run of steps over an
 * async source then costs no promise per element beyond the source's own.
 */
export class Resume {
  constructor(
    readonly pending: PromiseLike<IteratorResult<unknown>>,
    readonly resume: (pulled: IteratorResult<unknown>) => Drained,
  ) {}
}

/**
 * What `drain` answers: END; PAUSED right after an element its sink stopped
 * at; an element it did not hand to the sink (one that came on its general
 * path); a promise of a result; or a {@link Resume}.
 */
export type Drained = Pulled | Resume;

/**
 * A stage of a run. One class per operation serves both runners: in sync
 * iteration every answer is a plain result (upstream's are, and a callback that
 * returns a promise is a TypeError, see {@link inMode}); in async iteration a
 * stage answers at once when it can and with a promise when it must wait.
 *
 * `next()` may throw or reject: that is an error element, and the stage stays
 * usable; the following call goes on after it.
 */
export abstract class Stage {
  abstract next(): Pulled;

  /**
   * Push mode: hands each element that is ready to `sink`, with no iterator
   * result per element, and answers as {@link Drained} says. A throw is the
   * error of the element at hand; the next call goes on after it. This default
   * loops on `next()`; a stage that can pass its downstream's sink on to its
   * upstream (steps, `take` by count, `catch`, `observe`) does so, and the push
   * then reaches every stage above it.
   */
  drain(sink: Sink): Drained {
    for (;;) {
      const pulled = this.next();
      if (isPromise(pulled) || pulled.done) return pulled;
      if (sink(pulled.value) === true) return PAUSED;
    }
  }

  /** Closes this stage and everything upstream of it, once; settles after the calls in flight. */
  abstract return(): void | Promise<void>;
}

/**
 * `drain()`'s answer when its sink asked it to stop: neither an element nor
 * the end. The stage whose sink asked knows what comes next; a stage that only
 * passes its downstream's sink on passes PAUSED on too.
 */
export const PAUSED: IteratorResult<unknown> = Object.freeze({ done: false, value: undefined });

/**
 * The result a stage answers once it is done. Its properties come in the other
 * order than an element's, so it has a hidden class of its own: where results
 * cannot be optimised away (async stages, and sync ones before `result` in
 * steps.ts), mixing `undefined` into the elements' class made V8 recompile the
 * hot loops into code that ran at half speed (W1 35 -> 60 M/s once it stopped).
 */
export const END: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** An element as an iterator result. */
export function element<T>(value: T): IteratorYieldResult<T> {
  return { done: false, value };
}

/** A `drain()` answer as a plain one, for a stage that goes on on its general path: a Resume becomes the promise of what it resumes to. */
export function withoutResume(answer: Drained): Pulled {
  return answer instanceof Resume ? resumed(answer) : answer;
}

async function resumed(answer: Drained): Promise<IteratorResult<unknown>> {
  while (answer instanceof Resume) answer = answer.resume(await answer.pending);
  return answer;
}

/** {@link OwnStop.answer} when upstream's loop stopped at the stage's own request, not its downstream's. */
export const STOPPED_HERE = Symbol("STOPPED_HERE");

/**
 * The rule that tells a stage's own stop from one asked downstream, in push
 * mode, for a stage that passes its downstream's sink on through a sink of its
 * own (`take` once it has its count, `observe` while its `do` settles). Its
 * sink hands the element on first (`if (sink(value) === true) return true`),
 * then returns `own.stop()` to stop for itself; `own.answer(drained)` then
 * says whose stop it was. Downstream's wins: when both stop at one element,
 * the answer is PAUSED, and the stage's own stop waits for its next call.
 * (Each stage keeps its sink in its own code, so the engine sees one function
 * at each call: a shared wrapper made them megamorphic, at half the speed.)
 */
export class OwnStop {
  #here = false;
  /** Before a drain through the stage's sink. */
  reset(): void {
    this.#here = false;
  }
  /** What the stage's sink returns to stop upstream's loop for itself. */
  stop(): true {
    this.#here = true;
    return true;
  }
  /** Upstream's answer, STOPPED_HERE in place of a PAUSED that was the stage's own stop. */
  answer(drained: Drained): Drained | typeof STOPPED_HERE {
    return drained === PAUSED && this.#here ? STOPPED_HERE : drained;
  }
}

/** What a {@link Handler} answers for a result it dropped: pull again. */
export const AGAIN = Symbol("AGAIN");

/** A handler's answer: a result, AGAIN, or (in async iteration) a promise of either. */
export type Handled = IteratorResult<unknown> | typeof AGAIN | PromiseLike<IteratorResult<unknown> | typeof AGAIN>;

/**
 * A stage written as decisions on upstream's answers, driven by {@link answer}:
 * the driver pulls, and hands each result to `handle` and each error (from the
 * pull, or thrown by `handle`) to `handleError`, until one answers something
 * other than AGAIN. A throw from `handleError` is the stage's error element.
 */
export interface Handler {
  /** Upstream's next answer (usually `upstream.next()`; or its `drain`, whose Resume the driver awaits itself). */
  pull(): Pulled | Resume;
  handle(pulled: IteratorResult<unknown>): Handled;
  /** What an error becomes; without it, an error passes on as it is. */
  handleError?(error: unknown): Handled;
}

/**
 * The next answer of a stage written as a {@link Handler}: a plain loop while
 * upstream and the callbacks answer at once (so sync iteration and a ready
 * async upstream cost no promise), then, from the first thing pending, one
 * async loop that awaits only what is pending, until an answer comes.
 */
export function answer(stage: Handler): Pulled {
  for (;;) {
    let out: Handled;
    try {
      const pulled = stage.pull();
      if (pulled instanceof Resume || isPromise(pulled)) return answerSlowly(stage, pulled, Pending.Pull);
      out = stage.handle(pulled);
      if (isPromise(out)) return answerSlowly(stage, out, Pending.Handle);
    } catch (error) {
      if (stage.handleError === undefined) throw error;
      out = stage.handleError(error);
      if (isPromise(out)) return answerSlowly(stage, out, Pending.HandleError);
    }
    if (out !== AGAIN) return out;
  }
}

/** What {@link answerSlowly} waits on first. */
const Pending = { Pull: 0, Handle: 1, HandleError: 2 } as const;
type Pending = (typeof Pending)[keyof typeof Pending];

async function answerSlowly(stage: Handler, first: PromiseLike<unknown> | Resume, waiting: Pending): Promise<IteratorResult<unknown>> {
  let pending: unknown = first;
  for (;;) {
    let out: unknown;
    if (waiting === Pending.HandleError) out = await pending; // its rejection is the stage's error
    else {
      try {
        if (waiting === Pending.Pull) {
          let pulled = pending === undefined ? stage.pull() : pending;
          // Upstream's Resume: its promise awaited here, no promise of ours between (a throw is the pull's error).
          while (pulled instanceof Resume) pulled = pulled.resume(await pulled.pending);
          out = stage.handle((isPromise(pulled) ? await pulled : pulled) as IteratorResult<unknown>);
        } else out = pending;
        if (isPromise(out)) out = await out;
      } catch (error) {
        if (stage.handleError === undefined) throw error;
        out = stage.handleError(error);
        if (isPromise(out)) out = await out;
      }
    }
    if (out !== AGAIN) return out as IteratorResult<unknown>;
    pending = undefined;
    waiting = Pending.Pull;
  }
}

/** The second argument of `map` and `do` callbacks. */
export interface CallOptions {
  /** Aborted when the iteration ends early, so work in flight (a `fetch`) can be cancelled. */
  readonly signal: AbortSignal;
}

/** What one iteration of a plan shares between its stages. */
export interface RunContext {
  /** Which runner drives the stages: in "sync", a callback's promise is a TypeError. */
  readonly mode: "sync" | "async";
  readonly clock: Clock;
  /** Aborted when the iteration ends early (break, return(), abort of a terminal's signal). */
  readonly signal: AbortSignal;
  /** The second argument handed to `map`/`do` callbacks. */
  readonly callOptions: CallOptions;
  /** Signals that abort with `signal`, through one listener on it (retry waits, per-call deadlines). */
  readonly links: SignalLinks;
}

/**
 * A user callback's answer, as this run takes it: in sync iteration a promise
 * is the TypeError naming the operation (`label`); in async iteration it is
 * the stage's to await.
 */
export function inMode<T>(context: RunContext, label: string, out: T): T {
  if (context.mode === "sync" && isPromise(out)) throw promiseInSyncIteration(label, out);
  return out;
}

/** The error for a callback that returned a promise while iterating synchronously. */
export function promiseInSyncIteration(label: string, promise: PromiseLike<unknown>): TypeError {
  // The promise is abandoned: keep its rejection from surfacing as unhandled.
  Promise.resolve(promise).catch(() => {});
  return new TypeError(
    `\`${label}\` returned a Promise during sync iteration; iterate with \`for await\` or a terminal such as \`toArray()\``,
  );
}

/** `then` when `value` is a promise, else the call at once: a stage's sequence of possibly-async steps. */
export function andThen<T, U>(value: T | PromiseLike<T>, then: (value: T) => U): U | Promise<Awaited<U>> {
  return isPromise(value) ? (Promise.resolve(value).then(then) as Promise<Awaited<U>>) : then(value as T);
}

/**
 * Closes `upstream` for a stage that pulls in the background. When one of its
 * pulls is still in flight, it does not wait: many sources (an async generator,
 * a queue's blocking pull) close only once that pull settles, which may be
 * never, and leaving a loop must not hang on it.
 */
export function closeBehindPull(upstream: Stage, pullInFlight: boolean): void | Promise<void> {
  const closing = upstream.return();
  if (!pullInFlight) return closing;
  Promise.resolve(closing).catch(() => {});
}

/** A per-element step that can be fused with its neighbours into one loop (sequential map, do, filter). */
export interface Step {
  readonly kind: "map" | "do" | "filter";
  /** Called with the element, and `{ signal }` for map and do (a filter's `where` sees only the element). */
  readonly fn: (value: unknown, options?: CallOptions) => unknown;
  /** The operation, for error messages: `map(parse)`. */
  readonly label: string;
}

/** Everything about one operation, gathered in its own module under `operators/`. */
export interface Operator<N extends { readonly op: string }> {
  /** The node as it reads in `explain()`: `map(parse, { concurrency: 3 })`. */
  explain(node: N): string;
  /** Why this node cannot run in sync iteration, or undefined when it can. */
  asyncOnly?(node: N): string | undefined;
  /** A fusable per-element step, when the node is one in this run's mode. */
  step?(node: N, context: RunContext): Step | undefined;
  /** The node's stage, for either runner (`context.mode`). */
  stage(upstream: Stage, node: N, context: RunContext): Stage;
}
