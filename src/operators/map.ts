import { ConcurrentStage, type Task } from "../internal/pool.js";
import { callWithRetry, explainRetry, retryPolicy, type ResolvedRetry, type RetryPolicy } from "../retry.js";
import { isAsyncFunction } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { boolean, func, integer, options } from "../internal/validate.js";
import type { CallOptions, Operator, RunContext, Step } from "../plan.js";
import { StepsAsync, StepsSync } from "../run/steps.js";

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
}

/** `concurrency`, `asCompleted` and `retry`, checked: shared by `map` and `do`. */
export interface Concurrency {
  readonly concurrency: number;
  readonly asCompleted: boolean;
  readonly retry: ResolvedRetry | undefined;
}

export function concurrencyOptions(operation: string, opts: unknown): Concurrency {
  const o = options<MapOptions>(operation, opts, ["concurrency", "asCompleted", "retry"]);
  return {
    concurrency: o.concurrency === undefined ? 1 : integer("concurrency", o.concurrency, 1),
    asCompleted: o.asCompleted === undefined ? false : boolean("asCompleted", o.asCompleted),
    retry: o.retry === undefined || o.retry === (false as never) ? undefined : retryPolicy(o.retry),
  };
}

/** The options part of the explain text: `, { concurrency: 3 }`, or nothing for the defaults. */
export function explainConcurrency(n: Concurrency): string {
  const parts: string[] = [];
  if (n.concurrency !== 1) parts.push(`concurrency: ${n.concurrency}`);
  if (n.asCompleted) parts.push("asCompleted: true");
  if (n.retry) parts.push(explainRetry(n.retry));
  return parts.length ? `, { ${parts.join(", ")} }` : "";
}

/** Why a `map`/`do` node cannot run in sync iteration, if it cannot. */
export function concurrencyAsyncOnly(label: string, fn: Function, n: Concurrency): string | undefined {
  if (isAsyncFunction(fn)) return `${label} with an async function`;
  return n.retry ? `${label} with retry runs only in async iteration` : undefined;
}

/** The call a `map`/`do` node makes for an element: with its retry policy, when it has one. */
export function withRetry(fn: Task, n: Concurrency, context: RunContext): Task {
  const retry = n.retry;
  if (retry === undefined) return fn;
  return (x, options) => callWithRetry(() => fn(x, options), retry, context.clock, context.signal);
}

export interface MapNode extends Concurrency {
  readonly op: "map";
  readonly into: (value: unknown, options: CallOptions) => unknown;
}

export function mapNode(into: unknown, opts: unknown): MapNode {
  const fn = func<MapNode["into"]>("into", into);
  return Object.freeze({ op: "map", into: fn, ...concurrencyOptions("map", opts) });
}

export const map: Operator<MapNode> = {
  explain: (n) => `map(${nameOf(n.into)}${explainConcurrency(n)})`,
  asyncOnly: (n) => concurrencyAsyncOnly(`map(${nameOf(n.into)})`, n.into, n),
  // Sequential calls fuse with their neighbours; concurrent ones need the pool (async iteration only).
  step: (n, mode, context) =>
    mode === "sync" || n.concurrency === 1
      ? { kind: "map", fn: withRetry(n.into, n, context) as Step["fn"], label: map.explain(n) }
      : undefined,
  sync: (up, n, context) => new StepsSync(up, [map.step!(n, "sync", context)!], context),
  async: (up, n, context) =>
    n.concurrency === 1
      ? new StepsAsync(up, [map.step!(n, "async", context)!], context)
      : new ConcurrentStage(up, withRetry(n.into, n, context), n, context.callOptions),
};
