import type { Operator } from "../core/stage.js";
import type { PlanNode } from "../plan.js";
import { catchOperator } from "./catch.js";
import { concat } from "./concat.js";
import { doOperator } from "./do.js";
import { filter } from "./filter.js";
import { flatten } from "./flatten.js";
import { group } from "./group.js";
import { map } from "./map.js";
import { observe } from "./observe.js";
import { skip } from "./skip.js";
import { take } from "./take.js";
import { throttle } from "./throttle.js";
import { buffer } from "./buffer.js";

type Operators = { readonly [K in PlanNode["op"]]: Operator<Extract<PlanNode, { op: K }>> };

/** Every operation by its tag: the runners and `explain` look nodes up here. */
export const operators: Operators = {
  map,
  do: doOperator,
  filter,
  flatten,
  group,
  take,
  skip,
  catch: catchOperator,
  observe,
  concat,
  throttle,
  buffer,
};

/** The module of `node`'s operation. */
export function operatorOf<N extends PlanNode>(node: N): Operator<N> {
  return operators[node.op] as unknown as Operator<N>;
}
