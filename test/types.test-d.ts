// Type tests: checked by `tsc` (npm run check), never run. A wrong inference fails the build.
import { stream, type Stream, type SyncStream } from "streamable-ts";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expect<T extends true>(): T | void {}

declare const numbers: number[];
declare const rows: AsyncIterable<{ id: number }>;

// A sync source gives a SyncStream; an async one a Stream that is not Iterable.
expect<Equal<typeof s1, SyncStream<number>>>();
const s1 = stream(numbers);
expect<Equal<typeof s2, Stream<{ id: number }>>>();
const s2 = stream(rows);
// @ts-expect-error an async stream cannot be spread synchronously
[...s2];
expect<Equal<ReturnType<typeof pull>, Stream<number>>>();
const pull = () => stream(async () => 1);
expect<Equal<ReturnType<typeof pullSync>, SyncStream<string>>>();
const pullSync = () => stream(() => "x");

// map infers the result; an async callback awaits it and leaves sync iteration.
expect<Equal<typeof m1, SyncStream<string>>>();
const m1 = s1.map(String);
expect<Equal<typeof m2, Stream<string>>>();
const m2 = s1.map(async (x) => String(x));
// @ts-expect-error a stream with an async step cannot be iterated synchronously
for (const _ of m2);
expect<Equal<typeof m3, Stream<number>>>();
const m3 = s2.map((r) => r.id);
// callbacks get { signal }
s1.map((x, { signal }) => (signal satisfies AbortSignal, x));

// filter with a type guard narrows.
declare const mixed: (string | number)[];
expect<Equal<typeof f1, SyncStream<string>>>();
const f1 = stream(mixed).filter((x): x is string => typeof x === "string");
expect<Equal<typeof f2, SyncStream<string | number>>>();
const f2 = stream(mixed).filter((x) => x !== "");

// do keeps the element type.
expect<Equal<typeof d1, SyncStream<number>>>();
const d1 = s1.do(() => undefined);
expect<Equal<typeof d2, Stream<number>>>();
const d2 = s1.do(async () => undefined);

// flatten gives the inner element type, and needs iterable elements.
expect<Equal<typeof fl1, SyncStream<number>>>();
const fl1 = stream([[1], [2]]).flatten();
expect<Equal<typeof fl2, Stream<number>>>();
const fl2 = stream([rows]).map((r) => r).flatten().map((r) => r.id);
// @ts-expect-error numbers are not iterable
s1.flatten();

// group gives arrays, or [key, array] pairs with `by`.
expect<Equal<typeof g1, SyncStream<number[]>>>();
const g1 = s1.group(10);
expect<Equal<typeof g2, SyncStream<[boolean, number[]]>>>();
const g2 = s1.group({ upTo: 10, by: (x) => x > 0 });
expect<Equal<typeof g3, SyncStream<number[]>>>();
const g3 = s1.group({ upTo: 10 });
// @ts-expect-error upTo is a number
s1.group("10");

// take, skip, observe, concat keep the element type.
expect<Equal<typeof t1, SyncStream<number>>>();
const t1 = s1.take(2).skip((x) => x > 1).observe("n");
expect<Equal<typeof c1, SyncStream<number | string>>>();
const c1 = s1.concat(["a"]);
expect<Equal<typeof c2, Stream<number | { id: number }>>>();
const c2 = s1.concat(rows);

// catch keeps the type, and widens it with `replace`.
expect<Equal<typeof k1, SyncStream<number>>>();
const k1 = s1.catch(TypeError, { stop: true });
expect<Equal<typeof k2, SyncStream<number | null>>>();
const k2 = s1.catch(TypeError, { replace: (e) => (e.message, null) });
expect<Equal<typeof k3, SyncStream<number | string>>>();
const k3 = s1.catch({ replace: () => "x" });

// terminals resolve to the right types.
expect<Equal<typeof a1, Promise<number[]>>>();
const a1 = s1.toArray();
expect<Equal<typeof a2, Promise<string>>>();
const a2 = s1.reduce((acc, x) => acc + x, "");
// @ts-expect-error map needs a function
s1.map();

// Time-based steps leave sync iteration.
expect<Equal<typeof tt1, Stream<number>>>();
const tt1 = s1.throttle(16, { per: "1s" });
expect<Equal<typeof tt2, Stream<number>>>();
const tt2 = s1.buffer(10);
expect<Equal<typeof tt3, Stream<number[]>>>();
const tt3 = s1.group({ upTo: 100, within: "1s" });
expect<Equal<typeof tt4, Stream<[string, number[]]>>>();
const tt4 = s1.group({ within: 500, by: String });
expect<Equal<typeof tt5, Stream<number>>>();
const tt5 = s1.observe("n", { every: "30s" });
expect<Equal<typeof tt6, SyncStream<number>>>();
const tt6 = s1.observe("n", { every: 10 });
// @ts-expect-error `per` is required
s1.throttle(16);
// @ts-expect-error durations are milliseconds or "500ms", "1s", "2m", "1h"
s1.throttle(16, { per: "1 second" });

// Every operation of Stream is declared again on SyncStream, or is async-only: an operation added to Stream
// alone would compile, and `for...of` over a stream that used it would silently stop type-checking.
type Operations = { [K in keyof Stream<number>]: Stream<number>[K] extends (...args: never[]) => Stream<unknown> ? K : never }[keyof Stream<number>];
type AsyncOnlyOperations = "throttle" | "buffer";
type NotDeclaredOnSyncStream = {
  [K in Exclude<Operations, AsyncOnlyOperations>]: Equal<SyncStream<number>[K], Stream<number>[K]> extends true ? K : never;
}[Exclude<Operations, AsyncOnlyOperations>];
expect<Equal<NotDeclaredOnSyncStream, never>>();
expect<Equal<Operations, "map" | "do" | "filter" | "flatten" | "group" | "take" | "skip" | "catch" | "observe" | "throttle" | "buffer" | "concat" | "pipe">>();

// streamable-ts/workers: pool.fn is typed from the module's exports, and maps like any async function.
import type { WorkerFn, WorkerPool } from "streamable-ts/workers";
declare const workers: WorkerPool<{ parse(text: string): number; fetchAll(ids: number[]): Promise<string[]>; version: number }>;
expect<Equal<typeof parseOnThread, WorkerFn<string, number>>>();
const parseOnThread = workers.fn("parse");
// @ts-expect-error `version` is not a function
workers.fn("version");
// @ts-expect-error no such export
workers.fn("parsse");
expect<Equal<typeof fetched, Stream<string[]>>>();
const fetched = stream([[1, 2]]).map(workers.fn("fetchAll"), { concurrency: 2 });
// @ts-expect-error the export takes strings
stream([1]).map(workers.fn("parse"));
