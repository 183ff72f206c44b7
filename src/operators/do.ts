import { isAsyncFunction } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { func, options } from "../internal/validate.js";
import type { CallOptions, Operator, Step } from "../plan.js";
import { StepsAsync, StepsSync } from "../run/steps.js";
import type { MapOptions } from "./map.js";

export interface DoNode {
  readonly op: "do";
  readonly effect: (value: unknown, options: CallOptions) => unknown;
}

export function doNode(effect: unknown, opts: unknown): DoNode {
  options<MapOptions>("do", opts, []);
  return Object.freeze({ op: "do", effect: func<DoNode["effect"]>("effect", effect) });
}

/** `do` is `map` that hands back its input once the effect has run (and settled). */
export const doOperator: Operator<DoNode> = {
  explain: (n) => `do(${nameOf(n.effect)})`,
  asyncOnly: (n) => (isAsyncFunction(n.effect) ? `do(${nameOf(n.effect)}) with an async function` : undefined),
  step: (n) => ({ kind: "do", fn: n.effect as Step["fn"], label: doOperator.explain(n) }),
  sync: (up, n, context) => new StepsSync(up, [doOperator.step!(n, "sync")!], context),
  async: (up, n, context) => new StepsAsync(up, [doOperator.step!(n, "async")!], context),
};
