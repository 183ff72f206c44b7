import type { Clock } from "./internal/clock.js";
import type { SignalLinks } from "./internal/links.js";
import type { CatchNode } from "./operators/catch.js";
import type { ConcatNode } from "./operators/concat.js";
import type { DoNode } from "./operators/do.js";
import type { FilterNode } from "./operators/filter.js";
import type { FlattenNode } from "./operators/flatten.js";
import type { GroupNode } from "./operators/group.js";
import type { MapNode } from "./operators/map.js";
import type { ObserveNode } from "./operators/observe.js";
import type { SkipNode } from "./operators/skip.js";
import type { TakeNode } from "./operators/take.js";
import type { ThrottleNode } from "./operators/throttle.js";
import type { BufferNode } from "./operators/buffer.js";

/** What a stream reads from: an iterable, an async iterable, or a pull function called once per element. */
export type Source<T> = Iterable<T> | AsyncIterable<T> | (() => T | PromiseLike<T>);

/** One step of a plan; the `op` tag is the operation's name everywhere. */
export type PlanNode =
  | MapNode
  | DoNode
  | FilterNode
  | FlattenNode
  | GroupNode
  | TakeNode
  | SkipNode
  | CatchNode
  | ObserveNode
  | ConcatNode
  | ThrottleNode
  | BufferNode;

/** A plan: the source and the operations applied to it, in order. Immutable. */
export interface Plan {
  readonly source: Source<unknown>;
  readonly nodes: readonly PlanNode[];
}

/** What one iteration of a plan shares between its stages. */
export interface RunContext {
  readonly clock: Clock;
  /** Aborted when the iteration ends early (break, return(), abort of a terminal's signal). */
  readonly signal: AbortSignal;
  /** The second argument handed to `map`/`do` callbacks. */
  readonly callOptions: CallOptions;
  /** Signals that abort with `signal`, through one listener on it (retry waits, per-call deadlines). */
  readonly links: SignalLinks;
}

/** The second argument of `map` and `do` callbacks. */
export interface CallOptions {
  /** Aborted when the iteration ends early, so work in flight (a `fetch`) can be cancelled. */
  readonly signal: AbortSignal;
}

/** A stage of the sync runner. `next()` may throw: that is an error element, and the stage stays usable. */
export interface SyncPull {
  next(): IteratorResult<unknown>;
  /** Closes this stage and everything upstream of it, once. */
  return(): void;
}

/** What a stage of the async runner gives back: a result now, or a promise of one. */
export type Pulled = IteratorResult<unknown> | Promise<IteratorResult<unknown>>;

/**
 * A stage of the async runner. `next()` may throw or reject (an error element)
 * and the stage stays usable; it returns a plain result when it has one at once,
 * so a run of synchronous steps costs no promise.
 */
export interface AsyncPull {
  next(): Pulled;
  /**
   * The terminals' fast path, for a stage that has one: like `next()`, but when
   * upstream's answer is pending it hands back a {@link Resume} instead of
   * chaining a promise of its own on it.
   */
  nextOrResume?(): Pulled | Resume;
  /**
   * The terminals' fastest path, for a stage that has one: hands each element
   * that is ready to `sink` with no iterator result, and returns at the end
   * (END), with the first answer that is pending, or with PAUSED right after
   * an element for which `sink` returned true. A throw is the error of the
   * element at hand; the next call goes on after it.
   */
  drain?(sink: Sink): Pulled | Resume;
  /**
   * `for await`'s fast path, for a stage that has one: `next()` as one async
   * call that loops in place until an answer comes, awaiting upstream's
   * pending answers itself. It calls `settled` once the answer is known, just
   * before its promise settles (the caller keeps calls in turn with it), and
   * hands an error to `failed`, whose answer (a throw, or a promise that
   * rejects once the iteration is closed) becomes its own.
   */
  nextInLoop?(settled: () => void, failed: (error: unknown) => never | Promise<never>): Promise<IteratorResult<unknown>>;
  /** Closes this stage and everything upstream of it, once. */
  return(): void | Promise<void>;
}

/**
 * Upstream's pending answer and what the stage does with it: the terminal
 * awaits `pending` itself, then calls `resume`. A run of steps over an async
 * source then costs no promise per element beyond the source's own.
 */
export class Resume {
  constructor(
    readonly pending: PromiseLike<IteratorResult<unknown>>,
    readonly resume: (pulled: IteratorResult<unknown>) => Pulled | Resume,
  ) {}
}

/**
 * A `drain()` answer as a plain one, for a stage that handles a pending answer
 * on its general path: a Resume becomes the promise of what it resumes to.
 */
export function withoutResume(answer: Pulled | Resume): Pulled {
  return answer instanceof Resume ? resumed(answer) : answer;
}

async function resumed(answer: Pulled | Resume): Promise<IteratorResult<unknown>> {
  while (answer instanceof Resume) answer = answer.resume(await answer.pending);
  return answer;
}

/**
 * Where a stage in push mode (see `AsyncPull.drain`) hands an element. It
 * never throws; it returns true to stop upstream's loop right after that
 * element: `take` once it has its count, `group` once a group is full,
 * `observe` while its `do` settles, or whatever stage downstream asked so.
 */
export type Sink = (value: unknown) => boolean | void;

/**
 * `drain()`'s answer when its sink asked it to stop: neither an element nor
 * the end. The stage whose sink asked knows what comes next; a stage that only
 * passes its downstream's sink on passes PAUSED on too.
 */
export const PAUSED: IteratorResult<unknown> = Object.freeze({ done: false, value: undefined });

/** A per-element step that can be fused with its neighbours into one loop (sequential map, do, filter). */
export interface Step {
  readonly kind: "map" | "do" | "filter";
  /** Called with the element, and `{ signal }` for map and do (a filter's `where` sees only the element). */
  readonly fn: (value: unknown, options?: CallOptions) => unknown;
  /** The operation, for error messages: `map(parse)`. */
  readonly label: string;
}

/** Everything about one operation, gathered in its own module under `operators/`. */
export interface Operator<N extends PlanNode> {
  /** The node as it reads in `explain()`: `map(parse, { concurrency: 3 })`. */
  explain(node: N): string;
  /** Why this node cannot run in sync iteration, or undefined when it can. */
  asyncOnly?(node: N): string | undefined;
  /** A fusable per-element step, when the node is one. */
  step?(node: N, mode: "sync" | "async", context: RunContext): Step | undefined;
  /** The sync runner's stage; absent for async-only operations. */
  sync?(upstream: SyncPull, node: N, context: RunContext): SyncPull;
  /** The async runner's stage. */
  async(upstream: AsyncPull, node: N, context: RunContext): AsyncPull;
}

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

/**
 * Closes `upstream` for a stage that pulls in the background. When one of its
 * pulls is still in flight, it does not wait: many sources (an async generator,
 * a queue's blocking pull) close only once that pull settles, which may be
 * never, and leaving a loop must not hang on it.
 */
export function closeBehindPull(upstream: AsyncPull, pullInFlight: boolean): void | Promise<void> {
  const closing = upstream.return();
  if (!pullInFlight) return closing;
  Promise.resolve(closing).catch(() => {});
}
