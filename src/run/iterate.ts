import { systemClock, type Clock } from "../internal/clock.js";
import { operatorOf } from "../operators/index.js";
import { isAsyncFunction } from "../internal/promise.js";
import { options } from "../internal/validate.js";
import { SignalLinks } from "../internal/links.js";
import { show } from "../internal/show.js";
import type { Plan } from "../plan.js";
import { END, type RunContext, type Stage, type Step } from "../core/stage.js";
import { openSource } from "../core/sources.js";
import { stepsStage } from "../core/steps.js";

/** Options of one iteration. */
export interface IterateOptions {
  /** Aborting it ends the iteration: the source is closed and the pending call rejects with its reason. */
  readonly signal?: AbortSignal;
  /** Where time comes from; the real clock by default. Tests pass a manual one. */
  readonly clock?: Clock;
}

/** Options of an iterator a user holds (`iterate`, `iterateAsync`). */
export interface IteratorOptions extends IterateOptions {
  /**
   * What an error that comes out of `next()` does to the iteration.
   * `"close"`: as a generator does, the iteration is closed down to the source
   * (once, calls in flight settled) before the error reaches you, and the
   * iterator is done; a `for await`/`for ... of` loop left by an error leaves
   * nothing open. `"resume"`: the iteration stays open and the following
   * `next()` goes on with the next element; you close it (`return()`, `using`).
   * @default "close"
   */
  readonly afterError?: "close" | "resume";
}

const ITERATE_KEYS = ["signal", "clock"] as const;
const ITERATOR_KEYS = [...ITERATE_KEYS, "afterError"] as const;

/** Checks a terminal's options (`toArray`, `count`, `reduce`, `run`), naming what is wrong. */
export function iterateOptions(operation: string, value: unknown): IterateOptions {
  const o = options<IterateOptions>(operation, value, ITERATE_KEYS);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(`\`signal\` must be an AbortSignal, got ${show(o.signal)}`);
  }
  if (o.clock !== undefined) {
    const clock = o.clock as Partial<Clock> | null;
    if (clock === null || typeof clock !== "object" || typeof clock.now !== "function" || typeof clock.sleep !== "function") {
      throw new TypeError(`\`clock\` must have \`now()\` and \`sleep(ms, signal)\`, got ${show(o.clock)}`);
    }
  }
  return o;
}

/** Checks an iterator's options (`iterate`, `iterateAsync`), naming what is wrong. */
export function iteratorOptions(operation: string, value: unknown): IteratorOptions {
  const o = options<IteratorOptions>(operation, value, ITERATOR_KEYS);
  iterateOptions(operation, { signal: o.signal, clock: o.clock });
  if (o.afterError !== undefined && o.afterError !== "close" && o.afterError !== "resume") {
    throw new TypeError(`\`afterError\` must be "close" or "resume", got ${show(o.afterError)}`);
  }
  return o;
}

/** The first reason why `plan` cannot run in sync iteration, or undefined when it can. */
export function whyAsyncOnly(plan: Plan): string | undefined {
  if (typeof (plan.source as Iterable<unknown>)[Symbol.iterator] !== "function" && typeof plan.source !== "function") {
    return "the source is an AsyncIterable";
  }
  if (isAsyncFunction(plan.source)) {
    return "the source is an async function";
  }
  for (const node of plan.nodes) {
    const reason = operatorOf(node).asyncOnly?.(node);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** One iteration's shared state: its runner, its clock and the signal that aborts on early exit. */
export function runContext(mode: RunContext["mode"], options: IterateOptions = {}): RunContext & { readonly controller: AbortController } {
  const controller = new AbortController();
  const signal = controller.signal;
  return { mode, clock: options.clock ?? systemClock, signal, callOptions: { signal }, links: new SignalLinks(signal), controller };
}

/**
 * Walks a plan's nodes into a chain of stages, for the context's runner: each
 * run of fusable steps becomes one stage of fused steps, every other node its
 * operation's stage.
 */
export function buildStages(plan: Plan, context: RunContext): Stage {
  const nodes = plan.nodes;
  let stage = openSource(plan.source, context);
  for (let i = 0; i < nodes.length; ) {
    const steps: Step[] = [];
    for (let step; i < nodes.length && (step = operatorOf(nodes[i]!).step?.(nodes[i]!, context)); i++) steps.push(step);
    if (steps.length > 0) stage = stepsStage(stage, steps, context);
    else {
      const node = nodes[i++]!;
      stage = operatorOf(node).stage(stage, node, context);
    }
  }
  return stage;
}

/**
 * Closes an iteration on the way out of an error: the error at hand is the one
 * the caller gets, as when a loop body throws and the language closes the
 * iterator (a failure to close is dropped there too).
 */
function closeQuietly(it: { return(): unknown }): void {
  try {
    it.return();
  } catch {
    // the error being thrown wins
  }
}

/**
 * The iterator a user holds in sync iteration. An error comes out of `next()`;
 * by default it closes the iteration first, as a generator does (with
 * `afterError: "resume"` the following `next()` goes on with the next element).
 * `return()` closes every stage down to the source, once, and aborts the run's signal.
 */
export class StreamIterator<T> implements IterableIterator<T> {
  readonly #head: Stage;
  readonly #controller: AbortController;
  readonly #signal: AbortSignal | undefined;
  readonly #closeOnError: boolean;
  #done = false;

  constructor(plan: Plan, options: IteratorOptions = {}) {
    const reason = whyAsyncOnly(plan);
    if (reason !== undefined) {
      throw new TypeError(
        `this stream cannot be iterated synchronously: ${reason}; iterate with \`for await\` or a terminal such as \`toArray()\``,
      );
    }
    const context = runContext("sync", options);
    this.#controller = context.controller;
    this.#head = buildStages(plan, context);
    this.#signal = options.signal;
    this.#closeOnError = options.afterError !== "resume";
  }

  next(): IteratorResult<T> {
    // No done flag here: every stage answers END once it is done.
    if (this.#signal !== undefined && this.#signal.aborted) {
      if (this.#done) return END;
      this.return();
      throw this.#signal.reason;
    }
    try {
      return this.#head.next() as IteratorResult<T>; // a plain result: in sync iteration no stage answers a promise
    } catch (error) {
      if (this.#closeOnError) closeQuietly(this);
      throw error;
    }
  }

  return(value?: unknown): IteratorResult<T> {
    if (!this.#done) {
      this.#done = true;
      this.#controller.abort(new Error("the iteration ended early"));
      this.#head.return();
    }
    return { value: value as T, done: true }; // END's hidden class, not an element's (see END)
  }

  /** `using it = s.iterate()`: leaving the scope closes the iteration, as `return()` does. */
  [Symbol.dispose](): void {
    this.return();
  }

  [Symbol.iterator](): this {
    return this;
  }
}

