/**
 * `streamable-ts/bullmq`: a job past one machine. A planner splits a run into
 * shards and enqueues them on a BullMQ queue (the same run twice is a no-op);
 * workers in any number of processes run each shard's stream, commit a cursor
 * for the rows delivered, and resume a shard at its cursor after a crash, a
 * failure or a stop. `bullmq` (and its `ioredis`) are optional peers: this
 * module is the only one that imports them.
 */
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { Stream, systemClock, type Clock } from "../index.js";
import { duration, type Duration } from "../internal/duration.js";

/** One shard of a run, as the planner enqueues it. */
export interface ShardPlan<D> {
  /** Unique within the run; with the run, it makes the job's id. Letters, digits and `._-` only. */
  readonly id: string;
  /** What the worker needs to build the shard's stream (JSON). */
  readonly data: D;
}

/** Options of {@link planShards}. */
export interface PlanOptions {
  /** Attempts of a shard that fails (a stop or a crash does not count as one). @default 5 */
  readonly attempts?: number;
  /** First wait before a failed shard is tried again, ms; it doubles each attempt. @default 1000 */
  readonly backoff?: number;
}

/** What {@link planShards} did: the jobs' ids, and how many were new. */
export interface Planned {
  readonly jobIds: readonly string[];
  /** Shards enqueued now; the others were there already (planned by an earlier call). */
  readonly added: number;
}

/** The job data of a shard. */
interface ShardJob<D> {
  readonly run: string;
  readonly shard: string;
  readonly data: D;
}

/** What a shard's job keeps as its progress: the cursor of the last delivered rows. */
interface Committed<C> {
  readonly cursor: C;
}

const NAME = /^[A-Za-z0-9._-]+$/;

function checkName(what: string, value: unknown): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw new TypeError(`\`${what}\` must be a non-empty string of letters, digits and "._-", got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The job id of shard `shard` of run `run`: the same every time, so planning twice adds nothing. */
export function shardJobId(run: string, shard: string): string {
  return `${checkName("run", run)}~${checkName("shard.id", shard)}`;
}

/**
 * Enqueues the shards of run `run`, each as one job with a deterministic id:
 * planning the same run again (a planner restarted, two planners) adds nothing.
 *
 * @example
 * ```text
 * const queue = new Queue("users", { connection });
 * await planShards(queue, "2025-04-01", [{ id: "1-1000", data: { fromId: 1, toId: 1000 } }]);
 * ```
 */
export async function planShards<D>(queue: Queue, run: string, shards: readonly ShardPlan<D>[], options: PlanOptions = {}): Promise<Planned> {
  const { attempts = 5, backoff = 1000 } = options;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`\`attempts\` must be an integer >= 1, got ${String(attempts)}`);
  if (!(backoff >= 0)) throw new RangeError(`\`backoff\` must be a number of ms >= 0, got ${String(backoff)}`);
  const jobIds = shards.map((s) => shardJobId(run, s.id));
  if (new Set(jobIds).size !== jobIds.length) throw new TypeError(`the shards of run "${run}" must have distinct ids`);
  const before = await Promise.all(jobIds.map((id) => queue.getJob(id)));
  await queue.addBulk(
    shards.map((s, i) => ({
      name: run,
      data: { run, shard: s.id, data: s.data } satisfies ShardJob<D>,
      opts: { jobId: jobIds[i]!, attempts, backoff: { type: "exponential", delay: backoff }, removeOnComplete: false, removeOnFail: false },
    })),
  );
  return { jobIds, added: before.filter((job) => job === undefined).length };
}

/** A shard that failed for good: its attempts are spent, or its data was refused. */
export class ShardFailed extends Error {
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(`shard ${jobId} failed: ${reason}`);
    this.name = "ShardFailed";
  }
}

/**
 * Settles once every job in `jobIds` has completed; rejects with a
 * {@link ShardFailed} as soon as one has failed for good, or with the signal's
 * reason. It asks the queue every `every` ms.
 */
export async function shardsCompleted(queue: Queue, jobIds: readonly string[], { signal, every = 200 }: { signal?: AbortSignal; every?: number } = {}): Promise<void> {
  const left = new Set(jobIds);
  for (;;) {
    signal?.throwIfAborted();
    for (const id of [...left]) {
      const state = await queue.getJobState(id);
      if (state === "completed") left.delete(id);
      else if (state === "failed") {
        const job = await queue.getJob(id);
        throw new ShardFailed(id, job?.failedReason ?? "unknown reason");
      } else if (state === "unknown") throw new ShardFailed(id, "the job is not in the queue (removed?)");
    }
    if (left.size === 0) return;
    await systemClock.sleep(every, signal);
  }
}

/** The lock of a shard's job was lost (Redis unreachable past the lock's duration, or a stall): another worker may run it now. */
export class LockLost extends Error {
  constructor(readonly jobId: string) {
    super(`the lock of shard ${jobId} was lost: it stops here, and another worker may take it`);
    this.name = "LockLost";
  }
}

/**
 * Commits in the order of sending, as deliveries come in any order: the
 * cursor committed is the one of the last item of the longest delivered
 * prefix (the contiguous watermark).
 */
export interface Watermark<T> {
  /**
   * Records `item` as sent; call it in the source's order (`.do(delivery.sent)`
   * before a concurrent `map`). With a `window`, it waits while that many items
   * are sent and not yet committed, so that a crash re-sends at most `window`.
   */
  readonly sent: (item: T) => void | Promise<void>;
  /** Records `item` as delivered; commits when it extends the delivered prefix. */
  readonly delivered: (item: T) => Promise<void>;
  /**
   * Records that an item failed for good (`.catch(Error, { do: delivery.failed })`):
   * nothing past it can be committed in this attempt, so `sent` stops waiting.
   */
  readonly failed: () => void;
}

/** Options of a {@link Watermark}. */
export interface WatermarkOptions {
  /** Items sent and not yet committed, at most: what a crash may send again. Use the map's concurrency. @default Infinity */
  readonly window?: number;
}

/**
 * A {@link Watermark} over any `commit`: the one a shard's `watermark` builds
 * on its own `commit`.
 */
export function contiguousWatermark<T, C>(cursorOf: (item: T) => C, commit: (cursor: C) => Promise<void>, { window = Infinity }: WatermarkOptions = {}): Watermark<T> {
  if (!(window >= 1) || (window !== Infinity && !Number.isInteger(window))) throw new RangeError(`\`window\` must be an integer >= 1 or Infinity, got ${String(window)}`);
  const order: { item: T; done: boolean }[] = [];
  const entries = new Map<T, { item: T; done: boolean }>();
  let head = 0; // in `order`: the first item not delivered
  let dropped = 0; // entries spliced off the front of `order`
  let sent = 0;
  let committed = 0; // items whose commit is stored
  let failedOnce = false;
  /** Items waiting to be sent, by position: the one at `position` goes once fewer than `window` before it await their commit. */
  const waiters: { position: number; resolve: () => void }[] = [];
  const wake = () => {
    while (waiters.length > 0 && (failedOnce || waiters[0]!.position - committed < window)) waiters.shift()!.resolve();
  };
  return {
    sent: (item) => {
      if (entries.has(item)) throw new TypeError("watermark: an item was sent twice (items must be distinct objects)");
      const entry = { item, done: false };
      entries.set(item, entry);
      order.push(entry);
      const position = sent++;
      if (failedOnce || position - committed < window) return;
      return new Promise<void>((resolve) => waiters.push({ position, resolve }));
    },
    delivered: (item) => {
      const entry = entries.get(item);
      if (entry === undefined || entry.done) return Promise.reject(new TypeError("watermark: an item was delivered that was not sent, or twice"));
      entry.done = true;
      let last: { item: T } | undefined;
      while (head < order.length && order[head]!.done) {
        last = order[head++]!;
        entries.delete(last.item);
      }
      const prefix = dropped + head;
      // Delivered entries leave the front in bulk, so the array does not grow with the shard.
      if (head > 1024 && head * 2 > order.length) order.splice(0, head), (dropped += head), (head = 0);
      if (last === undefined) return Promise.resolve();
      const stored = commit(cursorOf(last.item));
      stored.then(
        () => ((committed = Math.max(committed, prefix)), wake()),
        () => ((failedOnce = true), wake()), // the shard fails: no window to keep
      );
      return stored;
    },
    failed: () => {
      failedOnce = true;
      wake();
    },
  };
}

/** What a shard's `work` gets. */
export interface Shard<D, C> {
  /** The job's id: `run~shard`. */
  readonly jobId: string;
  readonly run: string;
  readonly id: string;
  readonly data: D;
  /** 1 on the shard's first start; more after a failure, a crash or a stop. */
  readonly attempt: number;
  /** The last cursor committed for this shard, by any worker; undefined on a fresh shard. */
  readonly cursor: C | undefined;
  /**
   * Records `cursor` as delivered. Commits go to Redis one at a time, in the
   * order of the calls; the promise settles once this one is stored. After
   * the lock is lost it rejects with {@link LockLost}.
   */
  commit(cursor: C): Promise<void>;
  /**
   * A watermark that commits `cursorOf(item)` of the longest delivered prefix:
   * for an ordered `map` (a commit per delivered item) and an `asCompleted` one
   * alike, and whatever errors `catch` lets through.
   */
  watermark<T>(cursorOf: (item: T) => C, options?: WatermarkOptions): Watermark<T>;
  /**
   * `source`, until the worker stops: then the next pull ends it (and closes
   * `source`), so the stream settles what it holds and the shard is handed back.
   */
  rows<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterable<T>;
  /** Aborts when calls must stop now: the lock was lost, or a stop outlived `stopTimeout`. Run the stream with it. */
  readonly signal: AbortSignal;
  /** Aborts when the worker begins to stop: pull no more, let what is in flight settle. */
  readonly stopping: AbortSignal;
}

/** Options of {@link startShardWorker}. */
export interface ShardWorkerOptions<D, C> {
  /** A Redis URL (checked at start), or an ioredis client you own (with `maxRetriesPerRequest: null`). */
  readonly connection: string | Redis;
  /**
   * The shard's work: a stream (run here with the shard's `signal`) or a
   * promise. It resumes after `shard.cursor` and commits what it delivers.
   */
  readonly work: (shard: Shard<D, C>) => Stream<unknown> | Promise<unknown>;
  /** Checks a shard's data before it runs (a schema's `parse`); what it throws fails that shard for good. */
  readonly parse?: (data: unknown) => D;
  /** Shards at a time in this process. @default 1 */
  readonly concurrency?: number;
  /** How long a shard's lock lasts without renewal, ms; a killed worker's shard is taken again after about this. @default 30_000 */
  readonly lockDuration?: number;
  /** How often stalled shards (of killed workers) are looked for, ms. @default lockDuration */
  readonly stalledInterval?: number;
  /** Times a shard may be taken back from a dead worker before it fails. @default 5 */
  readonly maxStalledCount?: number;
  /** How long a stop waits for a shard to settle before its calls are aborted, ms. @default 30_000 */
  readonly stopTimeout?: number;
  /** Told of errors that are not a shard's (the connection to Redis dropped, a lock not renewed). @default console.error */
  readonly onError?: (error: Error) => void;
  /** Told of each shard's course here: started, completed, failed (with its error), handed back (a stop, a lost lock). */
  readonly onShard?: (event: ShardEvent) => void;
}

/** What happened to a shard in this worker. */
export type ShardEvent =
  | { readonly type: "started" | "completed" | "handed back"; readonly jobId: string; readonly attempt: number }
  | { readonly type: "failed"; readonly jobId: string; readonly attempt: number; readonly error: unknown };

/** A running worker: takes shards until stopped. */
export interface ShardWorker extends AsyncDisposable {
  /** The BullMQ worker underneath (for its events). */
  readonly worker: Worker;
  /**
   * Stops gracefully: no new shard is taken; each running shard pulls no more,
   * lets its calls in flight settle, commits, and is handed back to the queue
   * at once for another worker. Settles when all of that is done.
   */
  stop(): Promise<void>;
}

/** `redis://user:password@host` without the password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(a Redis URL that does not parse)";
  }
}

/** A Redis that could not be reached when a worker or planner started. */
export class RedisUnreachable extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach Redis at ${redactedUrl(url)}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "RedisUnreachable";
  }
}

/**
 * A client for `url` that BullMQ can block on, once a first connection has
 * shown that Redis answers (within `timeout` ms): a wrong URL fails at start,
 * with the URL (its password hidden), instead of retrying forever.
 */
export async function connectRedis(url: string, { timeout = 5000 } = {}): Promise<Redis> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeout, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new RedisUnreachable(url, error);
  } finally {
    probe.disconnect();
  }
  return new Redis(url, { maxRetriesPerRequest: null });
}

/**
 * Starts a BullMQ worker on queue `queue` that runs each shard's stream.
 * A shard completes when its stream ends; fails (and is tried again at its
 * cursor, after a backoff) when it throws; is handed back when the worker
 * stops or loses its lock.
 *
 * @example
 * ```text
 * const worker = await startShardWorker<Range, number>("users", {
 *   connection: process.env.REDIS_URL!,
 *   work: (shard) =>
 *     stream(shard.rows(usersAfter(shard.cursor ?? shard.data.fromId - 1, shard.data.toId)))
 *       .group(100)
 *       .map(post, { concurrency: 3 })
 *       .do((batch) => shard.commit(batch.at(-1)!.id)),
 * });
 * process.once("SIGTERM", () => worker.stop().then(() => process.exit(143)));
 * ```
 */
export async function startShardWorker<D, C>(queue: string, options: ShardWorkerOptions<D, C>): Promise<ShardWorker> {
  const { work, parse, concurrency = 1, lockDuration = 30_000, maxStalledCount = 5, stopTimeout = 30_000, onError = (e) => console.error(e), onShard } = options;
  const stalledInterval = options.stalledInterval ?? lockDuration;
  if (typeof work !== "function") throw new TypeError(`\`work\` must be a function, got ${typeof work}`);
  for (const [name, value, least] of [["concurrency", concurrency, 1], ["lockDuration", lockDuration, 100], ["stalledInterval", stalledInterval, 100], ["maxStalledCount", maxStalledCount, 0], ["stopTimeout", stopTimeout, 0]] as const) {
    if (!Number.isInteger(value) || value < least) throw new RangeError(`\`${name}\` must be an integer >= ${least}, got ${String(value)}`);
  }
  const owned = typeof options.connection === "string";
  const connection = typeof options.connection === "string" ? await connectRedis(options.connection) : options.connection;
  const running = new Map<string, RunningShard<D, C>>();
  let stopRequested = false;
  /** Set once a stop has outlived stopTimeout: the calls of every shard still running are aborted with it. */
  let late: Error | undefined;

  const worker = new Worker<ShardJob<unknown>>(
    queue,
    async (job, token) => {
      const jobId = job.id!;
      let data: D;
      try {
        data = parse ? parse(job.data.data) : (job.data.data as D);
      } catch (error) {
        const refused = new UnrecoverableError(`its data does not match its schema: ${(error as Error)?.message ?? String(error)}`);
        onShard?.({ type: "failed", jobId, attempt: job.attemptsStarted, error: refused });
        throw refused;
      }
      const shard = new RunningShard<D, C>(job, data);
      const { attempt } = shard;
      running.set(jobId, shard);
      // A shard fetched as the stop began stops too.
      if (stopRequested) shard.stop();
      if (late !== undefined) shard.abort(late);
      onShard?.({ type: "started", jobId, attempt });
      try {
        await shard.execute(work);
      } catch (error) {
        if (!shard.handBack) {
          onShard?.({ type: "failed", jobId, attempt, error });
          throw error;
        }
      } finally {
        running.delete(jobId);
      }
      if (shard.handBack) {
        // Back to waiting at once (not after the lock expires), without spending an attempt.
        await job.moveToWait(token);
        onShard?.({ type: "handed back", jobId, attempt });
        throw new WaitingError();
      }
      onShard?.({ type: "completed", jobId, attempt });
    },
    { connection, concurrency, lockDuration, stalledInterval, maxStalledCount, autorun: false },
  );
  worker.on("error", (error) => onError(error));
  worker.on("lockRenewalFailed", (jobIds) => {
    for (const id of jobIds) running.get(id)?.lose();
  });
  void worker.run().catch(onError);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopRequested = true;
      for (const shard of running.values()) shard.stop();
      const timer = setTimeout(() => {
        late = new Error(`the worker's stop outlived stopTimeout (${stopTimeout} ms)`);
        for (const shard of running.values()) shard.abort(late);
      }, stopTimeout);
      try {
        await worker.close();
      } finally {
        clearTimeout(timer);
        if (owned) await connection.quit().catch(() => connection.disconnect());
      }
    })());
  return { worker, stop, [Symbol.asyncDispose]: stop };
}

/** One shard running in this process: its cursor, its commits, its two signals. */
class RunningShard<D, C> implements Shard<D, C> {
  readonly jobId: string;
  readonly run: string;
  readonly id: string;
  readonly attempt: number;
  cursor: C | undefined;
  readonly #job: Job<ShardJob<unknown>>;
  readonly #calls = new AbortController();
  readonly #stopping = new AbortController();
  #commits: Promise<void> = Promise.resolve();
  #lost = false;
  /** Rows stopped short because of a stop, or calls aborted: the shard goes back to the queue. */
  handBack = false;

  constructor(
    job: Job<ShardJob<unknown>>,
    readonly data: D,
  ) {
    this.#job = job;
    this.jobId = job.id!;
    this.run = job.data.run;
    this.id = job.data.shard;
    this.attempt = job.attemptsStarted || job.attemptsMade + 1;
    this.cursor = (job.progress as Committed<C> | undefined)?.cursor;
  }

  get signal(): AbortSignal {
    return this.#calls.signal;
  }

  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  async execute(work: (shard: Shard<D, C>) => Stream<unknown> | Promise<unknown>): Promise<void> {
    try {
      const result = work(this);
      if (result instanceof Stream) await result.run({ signal: this.signal });
      else await result;
    } finally {
      // Every commit is stored (or has failed) before the shard completes, fails or goes back:
      // a late one would land after the next worker has read the cursor.
      await this.#commits.catch(() => {});
    }
    await this.#commits; // a commit that failed fails the shard: it resumes at the last one stored
  }

  commit(cursor: C): Promise<void> {
    if (this.#lost) return Promise.reject(new LockLost(this.jobId));
    this.#commits = this.#commits.then(async () => {
      if (this.#lost) throw new LockLost(this.jobId);
      await this.#job.updateProgress({ cursor } satisfies Committed<C> as object);
      this.cursor = cursor;
    });
    return this.#commits;
  }

  watermark<T>(cursorOf: (item: T) => C, options?: WatermarkOptions): Watermark<T> {
    return contiguousWatermark(cursorOf, (cursor) => this.commit(cursor), options);
  }

  rows<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
    return { [Symbol.asyncIterator]: () => new RowsUntilStop(this, source) };
  }

  /** Called by {@link RowsUntilStop} when a stop cut the rows short. */
  cut(): void {
    this.handBack = true;
  }

  stop(): void {
    this.#stopping.abort(new Error("the worker is stopping"));
  }

  abort(reason: Error): void {
    this.handBack = true;
    this.#calls.abort(reason);
  }

  lose(): void {
    this.#lost = true;
    this.handBack = false; // it is not ours to hand back any more
    this.#calls.abort(new LockLost(this.jobId));
  }
}

/** The rows of a shard until its worker stops: the pull after the stop ends them and closes the source. */
class RowsUntilStop<T> implements AsyncIterator<T> {
  readonly #shard: RunningShard<unknown, unknown>;
  readonly #source: AsyncIterator<T> | Iterator<T>;
  #done = false;

  constructor(shard: RunningShard<unknown, unknown>, source: AsyncIterable<T> | Iterable<T>) {
    this.#shard = shard;
    this.#source = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#done) return { done: true, value: undefined };
    if (this.#shard.stopping.aborted) {
      this.#shard.cut();
      return this.return();
    }
    const result = await this.#source.next();
    if (result.done) this.#done = true;
    return result;
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.#done) {
      this.#done = true;
      await this.#source.return?.();
    }
    return { done: true, value: undefined };
  }
}

/** A half-open interval of time, [from, to). */
export interface Interval {
  readonly from: Date;
  readonly to: Date;
}

/** Options of {@link runSchedule}. */
export interface ScheduleOptions {
  /** A Redis URL, or an ioredis client you own: the watermark of completed intervals and the scheduler's lock live there. */
  readonly connection: string | Redis;
  /** Names the schedule's keys in Redis: one watermark per name. */
  readonly name: string;
  /** The length of an interval: `"1m"`, `"10m"`, `"1h"` or ms. */
  readonly every: Duration;
  /** The start of the first interval, when no watermark is stored yet. */
  readonly since: Date;
  /**
   * Runs one interval to its end (plans its shards and waits for them, with
   * {@link planShards} and {@link shardsCompleted}). Called once per interval,
   * in order, one at a time; the watermark moves past it when it settles. If it
   * throws, the same interval is tried again after `retryAfter`.
   */
  readonly runInterval: (interval: Interval, signal: AbortSignal) => Promise<void>;
  /** Stops the schedule: the interval running is aborted and stays due. */
  readonly signal?: AbortSignal;
  /** Wait before an interval that failed is run again, ms. @default 10_000 */
  readonly retryAfter?: Duration;
  /** Told of what the schedule does (an interval started, done, failed). */
  readonly log?: (line: string) => void;
  /** Where time comes from: `now()` in ms since the epoch, and `sleep`. @default Date.now and timers */
  readonly clock?: Clock;
}

/** The time of day: ms since the epoch, and the system's timers. */
const wallClock: Clock = { now: () => Date.now(), sleep: (ms, signal) => systemClock.sleep(ms, signal) };

/** Another scheduler holds the schedule's lock: two at once would run an interval twice. */
export class ScheduleBusy extends Error {
  constructor(name: string) {
    super(`the schedule "${name}" is run by another scheduler already (its lock is held in Redis)`);
    this.name = "ScheduleBusy";
  }
}

/** Sets the key's expiry only if it still holds our token. */
const RENEW_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Moves the watermark forward only (never back), under the lock. */
const ADVANCE = `if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[2]) > at then redis.call('SET', KEYS[1], ARGV[2]) end
return 1`;

/**
 * Runs the intervals of a schedule as they fall due, like an orchestrator: an
 * interval [t, t + every) is due once its end has passed. A watermark in Redis
 * (the end of the last completed interval) survives restarts: after one, the
 * missed intervals run first, in order, each once. A lock in Redis keeps a
 * second scheduler out. Settles when `signal` aborts; rejects with
 * {@link ScheduleBusy} or {@link RedisUnreachable} at start.
 *
 * @example
 * ```text
 * await runSchedule({
 *   connection: process.env.REDIS_URL!, name: "users", every: "10m", since: new Date("2025-01-01"),
 *   runInterval: async (interval, signal) => {
 *     const { jobIds } = await planShards(queue, interval.from.toISOString().replace(/:/g, "."), await shardsOf(interval));
 *     await shardsCompleted(queue, jobIds, { signal });
 *   },
 *   signal,
 * });
 * ```
 */
export async function runSchedule(options: ScheduleOptions): Promise<void> {
  const { name, since, runInterval, signal, log = () => {}, clock = wallClock } = options;
  const now = () => clock.now();
  checkName("name", name);
  const every = duration("every", options.every);
  const retryAfter = duration("retryAfter", options.retryAfter ?? 10_000);
  if (!(since instanceof Date) || Number.isNaN(since.getTime())) throw new TypeError(`\`since\` must be a valid Date, got ${String(since)}`);
  if (typeof runInterval !== "function") throw new TypeError(`\`runInterval\` must be a function, got ${typeof runInterval}`);
  const owned = typeof options.connection === "string";
  const redis = typeof options.connection === "string" ? await connectRedis(options.connection) : options.connection;
  const keys = { watermark: `streamable-ts:schedule:${name}:done`, lock: `streamable-ts:schedule:${name}:lock` };
  const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const lockMs = 15_000;
  try {
    if ((await redis.set(keys.lock, token, "PX", lockMs, "NX")) !== "OK") throw new ScheduleBusy(name);
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    // The lock lives while this scheduler does; if it cannot be renewed, this one stops.
    const renew = setInterval(() => {
      redis.eval(RENEW_LOCK, 1, keys.lock, token, String(lockMs)).then(
        (held) => held === 0 && stop.abort(new ScheduleBusy(name)),
        (error: Error) => log(`could not renew the schedule's lock: ${error.message}`),
      );
    }, lockMs / 3);
    try {
      for (;;) {
        const stored = await redis.get(keys.watermark);
        const from = stored === null ? since.getTime() : Number(stored);
        const to = from + every;
        if (to > now()) {
          await clock.sleep(to - now(), stop.signal).catch(() => {});
          if (stop.signal.aborted) break;
          continue;
        }
        const interval = { from: new Date(from), to: new Date(to) };
        const label = `${interval.from.toISOString()}/${interval.to.toISOString()}`;
        log(`interval ${label}: started`);
        try {
          await runInterval(interval, stop.signal);
        } catch (error) {
          if (stop.signal.aborted) break;
          log(`interval ${label}: failed (${(error as Error)?.message ?? String(error)}); tried again in ${retryAfter} ms`);
          await clock.sleep(retryAfter, stop.signal).catch(() => {});
          if (stop.signal.aborted) break;
          continue;
        }
        if ((await redis.eval(ADVANCE, 2, keys.watermark, keys.lock, token, String(to))) !== 1) throw new ScheduleBusy(name);
        log(`interval ${label}: done`);
      }
      if (stop.signal.reason instanceof ScheduleBusy) throw stop.signal.reason;
    } finally {
      clearInterval(renew);
      signal?.removeEventListener("abort", onAbort);
      await redis.eval(RELEASE_LOCK, 1, keys.lock, token).catch(() => {});
    }
  } finally {
    if (owned) await redis.quit().catch(() => redis.disconnect());
  }
}

/** The watermark of schedule `name`: the end of its last completed interval, or undefined before the first. */
export async function scheduleWatermark(redis: Redis, name: string): Promise<Date | undefined> {
  const stored = await redis.get(`streamable-ts:schedule:${checkName("name", name)}:done`);
  return stored === null ? undefined : new Date(Number(stored));
}
