export { stream, Stream, type SyncStream, type RunOptions } from "./stream.js";
export type { CallOptions, Source } from "./plan.js";
export type { Clock } from "./internal/clock.js";
export type { IterateOptions } from "./run/iterate.js";
export type { MapOptions } from "./operators/map.js";
export type { FlattenOptions } from "./operators/flatten.js";
export type { GroupOptions } from "./operators/group.js";
export type { CatchOptions, ErrorClass } from "./operators/catch.js";
export type { Observation, ObserveOptions } from "./operators/observe.js";
