import { ConcurrentStage } from "../internal/pool.js";
import { isAsyncFunction } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { boolean, func, integer, options } from "../internal/validate.js";
import type { CallOptions, Operator, Step } from "../plan.js";
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
}

/** `concurrency` and `asCompleted`, checked: shared by `map` and `do`. */
export interface Concurrency {
  readonly concurrency: number;
  readonly asCompleted: boolean;
}

export function concurrencyOptions(operation: string, opts: unknown): Concurrency {
  const o = options<MapOptions>(operation, opts, ["concurrency", "asCompleted"]);
  return {
    concurrency: o.concurrency === undefined ? 1 : integer("concurrency", o.concurrency, 1),
    asCompleted: o.asCompleted === undefined ? false : boolean("asCompleted", o.asCompleted),
  };
}

/** The options part of the explain text: `, { concurrency: 3 }`, or nothing for the defaults. */
export function explainConcurrency(n: Concurrency): string {
  const parts: string[] = [];
  if (n.concurrency !== 1) parts.push(`concurrency: ${n.concurrency}`);
  if (n.asCompleted) parts.push("asCompleted: true");
  return parts.length ? `, { ${parts.join(", ")} }` : "";
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
  asyncOnly: (n) => (isAsyncFunction(n.into) ? `map(${nameOf(n.into)}) with an async function` : undefined),
  // Sequential calls fuse with their neighbours; concurrent ones need the pool (async iteration only).
  step: (n, mode) =>
    mode === "sync" || n.concurrency === 1 ? { kind: "map", fn: n.into as Step["fn"], label: map.explain(n) } : undefined,
  sync: (up, n, context) => new StepsSync(up, [map.step!(n, "sync")!], context),
  async: (up, n, context) =>
    n.concurrency === 1
      ? new StepsAsync(up, [map.step!(n, "async")!], context)
      : new ConcurrentStage(up, n.into, n, context.callOptions),
};
