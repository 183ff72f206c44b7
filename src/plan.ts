import type { Source } from "./core/sources.js";
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

export type { Source } from "./core/sources.js";
export type { CallOptions } from "./core/stage.js";

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
