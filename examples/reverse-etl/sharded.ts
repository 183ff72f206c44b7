/**
 * The reference job, one shard at a time: the users of an interval whose ids
 * fall in the shard's range, read after the shard's cursor, grouped by 100 and
 * posted with an idempotency key. The cursor (the last id of the delivered
 * prefix) is committed as batches are delivered, so a shard resumed after a
 * crash regroups the same batches, and the API takes each batch once.
 */
import { stream, type Observation, type Stream, type ThrottleStore } from "streamable-ts";
import type { Shard } from "streamable-ts/bullmq";
import { isTransient, raiseForStatus, toUser, usersPoster, type JobStats, type User } from "./job.js";
import type { IdRange, Interval, UserRow, Warehouse } from "./warehouse.js";

/** A shard's data in the queue (JSON): its interval and its range of ids. */
export interface ShardData {
  readonly from: string;
  readonly to: string;
  readonly after: number;
  readonly last: number;
}

/** The shard's data as the worker takes it: dates and ids, checked. */
export interface ShardWork {
  readonly interval: Interval;
  readonly range: IdRange;
}

/** Refuses a shard whose data is not what the planner writes, with what is wrong. */
export function parseShard(data: unknown): ShardWork {
  const d = data as Partial<ShardData> | null;
  const from = new Date(d?.from ?? NaN);
  const to = new Date(d?.to ?? NaN);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new TypeError(`\`from\` and \`to\` must be ISO dates, got ${JSON.stringify(data)}`);
  if (!Number.isSafeInteger(d?.after) || !Number.isSafeInteger(d?.last) || d!.after! >= d!.last!) {
    throw new TypeError(`\`after\` and \`last\` must be integers with after < last, got ${JSON.stringify(data)}`);
  }
  return { interval: { from, to }, range: { after: d!.after!, to: d!.last! } };
}

/** The planner's side: a shard's data for a range of an interval. */
export function shardData(interval: Interval, range: IdRange): ShardData {
  return { from: interval.from.toISOString(), to: interval.to.toISOString(), after: range.after, last: range.to };
}

export interface ShardJobOptions {
  readonly warehouse: Warehouse;
  readonly apiUrl: string;
  readonly token: string;
  readonly rate: number;
  readonly concurrency: number;
  readonly timeout: number;
  /** Post as calls complete (commits follow the contiguous watermark) instead of in order. */
  readonly asCompleted: boolean;
  /** Where the API's quota is kept: Redis, shared by the workers. */
  readonly store?: ThrottleStore;
  readonly log?: (observation: Observation) => void;
}

/** The shard's stream: run by the worker with the shard's signal. */
export function shardJob(shard: Shard<ShardWork, number>, options: ShardJobOptions, stats: JobStats): Stream<User[]> {
  const { warehouse, concurrency, timeout, asCompleted, log } = options;
  const { interval, range } = shard.data;
  const postUsers = usersPoster(options, stats);
  // Commits follow the delivered prefix: in order after each batch of an ordered map, the contiguous
  // watermark of an asCompleted one; a batch that fails holds the cursor where it is.
  // The window bounds what a crash sends again: batches sent and not yet committed, at most the concurrency.
  const delivery = shard.watermark((batch: User[]) => batch.at(-1)!.id, { window: concurrency });
  const deliver = async (users: User[], options: { signal: AbortSignal }) => {
    raiseForStatus(await postUsers(users, options));
    return users;
  };
  const countRead = () => void stats.usersRead++;
  const countPosted = () => void stats.batchesPosted++;
  const countRetry = () => void stats.retries++;
  const observe = log && { do: log };
  const rows: AsyncIterable<UserRow> = shard.rows(warehouse.usersInRange(interval, { after: shard.cursor ?? range.after, to: range.to }, 250));
  return stream(rows)
    .do(countRead)
    .map(toUser)
    .observe("users", observe)
    .group(100)
    .do(delivery.sent)
    .map(deliver, { concurrency, asCompleted, timeout, retry: { attempts: 6, where: isTransient, onRetry: countRetry } })
    .do(delivery.delivered)
    .do(countPosted)
    .observe("integrated user batches", observe)
    // A batch that failed for good holds the cursor: the window no longer waits for commits past it.
    .catch(Error, { do: delivery.failed, finallyThrow: true });
}

/** A shard that runs nothing: its job's plan is for `explain()` (the planner prints it). */
export function planOnlyShard(interval: Interval): Shard<ShardWork, number> {
  const never = new AbortController().signal;
  return {
    jobId: "plan~only",
    run: "plan",
    id: "only",
    data: { interval, range: { after: 0, to: 0 } },
    attempt: 1,
    cursor: undefined,
    commit: async () => {},
    watermark: () => ({ sent: () => {}, delivered: async () => {}, failed: () => {} }),
    rows: (source) => (Symbol.asyncIterator in source ? source : { [Symbol.asyncIterator]: async function* () { yield* source; } }),
    signal: never,
    stopping: never,
  };
}
