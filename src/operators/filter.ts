import { isAsyncFunction } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { func } from "../internal/validate.js";
import type { Operator } from "../core/stage.js";
import { stepsStage } from "../core/steps.js";

export interface FilterNode {
  readonly op: "filter";
  readonly where: (value: unknown) => unknown;
}

export function filterNode(where: unknown = Boolean): FilterNode {
  return Object.freeze({ op: "filter", where: func<FilterNode["where"]>("where", where) });
}

export const filter: Operator<FilterNode> = {
  explain: (n) => `filter(${nameOf(n.where)})`,
  asyncOnly: (n) => (isAsyncFunction(n.where) ? `filter(${nameOf(n.where)}) with an async function` : undefined),
  step: (n) => ({ kind: "filter", fn: n.where, label: filter.explain(n) }),
  stage: (up, n, context) => stepsStage(up, [filter.step!(n, context)!], context),
};
