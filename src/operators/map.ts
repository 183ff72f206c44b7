import { ConcurrentStage, type Task } from "../core/pool.js";
import { callWithRetry, explainRetry, retryPolicy, type ResolvedRetry, type RetryPolicy } from "../retry.js";
import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { boolean, func, integer, options } from "../internal/validate.js";
import { duration, showDuration, type Duration } from "../internal/duration.js";
import { TimeoutError } from "../errors.js";
import { SignalLinks } from "../internal/links.js";
import type { CallOptions, Operator, RunContext, Stage, Step } from "../core/stage.js";
import { stepsStage } from "../core/steps.js";
import { Throttle } from "./throttle.js";

/** Options of `map` and `do`. */
export interface MapOptions {
  /**
   * How many calls may run at once, at least 1. Above 1, in async iteration, up
   * to this many promises are awaited together (sync iteration runs sync
   * callbacks one after the other, as it must). @default 1
   */
  readonly concurrency?: number;
  /** With `concurrency`, yield results as they complete instead of in upstream order. @default false */
  readonly asCompleted?: boolean;
  /**
   * Retries a failed call, inside its element's slot: `true` for the defaults (3
   * attempts, 100 ms doubling up to 10 s, full jitter), a number of attempts, or
   * a policy. When attempts run out, the last error comes out in place of the
   * element. Async iteration only.
   */
  readonly retry?: RetryPolicy | number | true;
  /**
   * A deadline per call (per attempt, with `retry`): milliseconds, or "500ms",
   * "30s". When it passes, the call's `signal` aborts and the call rejects with
   * a {@link TimeoutError} (named as `AbortSignal.timeout`'s is), which `retry`
   * takes as a passing failure. Async iteration only.
   */
  readonly timeout?: Duration;
}

/** `concurrency`, `asCompleted` and `retry`, checked: shared by `map` and `do`. */
export interface Concurrency {
  readonly concurrency: number;
  readonly asCompleted: boolean;
  readonly retry: ResolvedRetry | undefined;
  /** Milliseconds per call, and as written for explain. */
  readonly timeout: number | undefined;
  readonly timeoutAsWritten: Duration | undefined;
}

export function concurrencyOptions(operation: string, opts: unknown): Concurrency {
  const o = options<MapOptions>(operation, opts, ["concurrency", "asCompleted", "retry", "timeout"]);
  return {
    concurrency: o.concurrency === undefined ? 1 : integer("concurrency", o.concurrency, 1),
    asCompleted: o.asCompleted === undefined ? false : boolean("asCompleted", o.asCompleted),
    retry: o.retry === undefined || o.retry === (false as never) ? undefined : retryPolicy(o.retry),
    timeout: o.timeout === undefined ? undefined : duration("timeout", o.timeout),
    timeoutAsWritten: o.timeout,
  };
}

/** The options part of the explain text: `, { concurrency: 3 }`, or nothing for the defaults. */
export function explainConcurrency(n: Concurrency): string {
  const parts: string[] = [];
  if (n.concurrency !== 1) parts.push(`concurrency: ${n.concurrency}`);
  if (n.asCompleted) parts.push("asCompleted: true");
  if (n.timeoutAsWritten !== undefined) parts.push(`timeout: ${showDuration(n.timeoutAsWritten)}`);
  if (n.retry) parts.push(explainRetry(n.retry));
  return parts.length ? `, { ${parts.join(", ")} }` : "";
}

/** Why a `map`/`do` node cannot run in sync iteration, if it cannot. */
export function concurrencyAsyncOnly(label: string, fn: Function, n: Concurrency): string | undefined {
  if (isAsyncFunction(fn)) return `${label} with an async function`;
  if (n.timeout !== undefined) return `${label} with a timeout runs only in async iteration`;
  return n.retry ? `${label} with retry runs only in async iteration` : undefined;
}

/**
 * The call a `map`/`do` node makes for an element: with its deadline per
 * attempt and its retry policy, when it has them.
 */
export function withRetry(fn: Task, n: Concurrency, context: RunContext): Task {
  const attempt = n.timeout === undefined ? fn : withTimeout(fn, n.timeout, n.timeoutAsWritten!, context);
  const retry = n.retry;
  if (retry === undefined) return attempt;
  return (x, options) => {
    // The waits between attempts hang on a linked signal: one listener on the run's, whatever the concurrency.
    const waits = context.links.link();
    const done = () => context.links.unlink(waits);
    return callWithRetry(() => attempt(x, options), retry, context.clock, waits.signal).finally(done);
  };
}

/** Why a call's deadline timer is cleared: the call settled first. */
const CALL_SETTLED = Symbol("the call settled");

/**
 * `fn` with a deadline: each call gets a signal of its own that aborts with the
 * run's or when `ms` pass, and then the call rejects with a TimeoutError,
 * whether or not `fn` listens. The timer goes as soon as the call settles.
 */
function withTimeout(fn: Task, ms: number, asWritten: Duration, context: RunContext): Task {
  const message = `${nameOf(fn)} timed out after ${typeof asWritten === "number" ? `${asWritten} ms` : asWritten}`;
  return (x) => {
    const call = context.links.link();
    const timer = new AbortController();
    const settled = () => {
      timer.abort(CALL_SETTLED); // a reason of ours: a default one would build a DOMException per call
      context.links.unlink(call);
    };
    let out: unknown;
    try {
      out = fn(x, { signal: call.signal });
    } catch (error) {
      settled();
      throw error;
    }
    if (!isPromise(out)) {
      settled();
      return out;
    }
    const expired = context.clock.sleep(ms, timer.signal).then(
      () => {
        const error = new TimeoutError(message);
        call.abort(error);
        throw error;
      },
      () => new Promise<never>(() => {}), // the call settled first: this side of the race never answers
    );
    return Promise.race([out, expired]).finally(settled);
  };
}

export interface MapNode extends Concurrency {
  readonly op: "map";
  readonly into: (value: unknown, options: CallOptions) => unknown;
}

export function mapNode(into: unknown, opts: unknown): MapNode {
  const fn = func<MapNode["into"]>("into", into);
  return Object.freeze({ op: "map", into: fn, ...concurrencyOptions("map", opts) });
}

/**
 * The stage of a `map`/`do` node that does not fuse with its neighbours: the
 * concurrency engine (see core/pool.ts). Its calls get a signal of their own,
 * which aborts with the run's or when the stage closes (a `take` downstream
 * has its count), so calls in flight hear that their results are no longer
 * wanted. Right after a throttle, no element is pulled ahead of a free slot:
 * each call starts when its element is stamped.
 */
export function concurrentStage(upstream: Stage, n: Concurrency, context: RunContext, task: (context: RunContext) => Task): ConcurrentStage {
  const calls = context.links.link();
  const signal = calls.signal;
  const own: RunContext = { ...context, signal, callOptions: { signal }, links: new SignalLinks(signal) };
  const pool = { ...n, pullAhead: !(upstream instanceof Throttle), calls };
  return new ConcurrentStage(upstream, task(own), pool, own.callOptions);
}

export const map: Operator<MapNode> = {
  explain: (n) => `map(${nameOf(n.into)}${explainConcurrency(n)})`,
  asyncOnly: (n) => concurrencyAsyncOnly(`map(${nameOf(n.into)})`, n.into, n),
  // Sequential calls fuse with their neighbours; concurrent ones need the pool (async iteration only).
  step: (n, context) =>
    context.mode === "sync" || n.concurrency === 1
      ? { kind: "map", fn: withRetry(n.into, n, context) as Step["fn"], label: map.explain(n) }
      : undefined,
  stage: (up, n, context) => {
    const step = map.step!(n, context);
    return step ? stepsStage(up, [step], context) : concurrentStage(up, n, context, (own) => withRetry(n.into, n, own));
  },
};
