import { isAsyncFunction } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { func, options } from "../internal/validate.js";
import type { CallOptions, Operator, Step } from "../plan.js";
import { StepsAsync, StepsSync } from "../run/steps.js";

export interface MapNode {
  readonly op: "map";
  readonly into: (value: unknown, options: CallOptions) => unknown;
}

/** Options of `map` and `do`. */
export interface MapOptions {}

export function mapNode(into: unknown, opts: unknown): MapNode {
  options<MapOptions>("map", opts, []);
  return Object.freeze({ op: "map", into: func<MapNode["into"]>("into", into) });
}

export const map: Operator<MapNode> = {
  explain: (n) => `map(${nameOf(n.into)})`,
  asyncOnly: (n) => (isAsyncFunction(n.into) ? `map(${nameOf(n.into)}) with an async function` : undefined),
  step: (n) => ({ kind: "map", fn: n.into as Step["fn"], label: map.explain(n) }),
  sync: (up, n, context) => new StepsSync(up, [map.step!(n, "sync")!], context),
  async: (up, n, context) => new StepsAsync(up, [map.step!(n, "async")!], context),
};
