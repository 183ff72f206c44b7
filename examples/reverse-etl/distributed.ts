/**
 * `npm run demo -- --workers N`: the job past one process. This process is the
 * planner: it splits the interval into shards of users by id and enqueues them
 * on a BullMQ queue in Redis; N worker processes (shard-worker.ts) take the
 * shards, read their rows from PostgreSQL, and post them under one quota kept
 * in Redis. A worker that dies is replaced, and its shard resumes at its
 * cursor. With `--schedule`, the planner runs each due interval in turn, and
 * catches up the missed ones after a restart.
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { planShards, runSchedule, shardsCompleted, connectRedis, type Interval } from "streamable-ts/bullmq";
import type { Api } from "./api.js";
import type { JobStats } from "./job.js";
import { freePort, localRedis, sumStats } from "./processes.js";
import { shardData } from "./sharded.js";
import type { WorkerConfig, WorkerMessage } from "./shard-worker.js";
import type { Warehouse } from "./warehouse.js";

/** A schedule: an interval's length in ms, and where the first one starts. */
export interface Schedule {
  readonly every: number;
  readonly since: Date;
}

export interface DistributedOptions {
  readonly workers: number;
  readonly interval: Interval;
  readonly rate: number;
  readonly concurrency: number;
  readonly timeout: number;
  /** Users per shard. @default 1000 */
  readonly shardSize?: number;
  /** Post as calls complete; commits follow the contiguous watermark. @default false */
  readonly asCompleted?: boolean;
  /** Run intervals as they fall due, instead of `interval` once. */
  readonly schedule?: Schedule;
  /** How long a shard's lock lasts, ms: a killed worker's shard is taken again after about this. @default 2000 */
  readonly lockDuration?: number;
}

/** A worker process, as the planner sees it. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Its counts as it last reported them. */
  stats: JobStats;
  /** The CPU time it used since it was ready, µs, as it last reported it. */
  cpuMicros: number;
}

/** What the planner tells its caller as the run goes. */
export interface DistributedHooks {
  readonly starting?: ((step: string) => void) | undefined;
  readonly print: (line: string) => void;
  readonly signal: AbortSignal;
  /** Called at each report of a worker, with every worker running now (fault tests kill one). */
  readonly onProgress?: ((total: JobStats, workers: readonly WorkerProcess[]) => void) | undefined;
  /** Called when a worker says a shard started, completed, failed or went back to the queue. */
  readonly onShard?: ((event: { type: string; jobId: string; worker: WorkerProcess }) => void) | undefined;
}

/** What the run did, for the summary. */
export interface DistributedResult {
  readonly stats: JobStats;
  /** The intervals that completed; with a schedule, those of this process's life. */
  readonly completed: readonly Interval[];
  /** The interval running when the run stopped, if any. */
  readonly running: Interval | undefined;
  readonly workersReplaced: number;
  /** The CPU time of all the worker processes, µs (what they last reported). */
  readonly workerCpuMicros: number;
}

/** A PostgreSQL to share between processes: DATABASE_URL, or a throwaway local one (stopped by `stop`). */
export async function localPostgres(): Promise<{ url: string; stop: () => void }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: () => {} };
  const port = await freePort();
  const script = fileURLToPath(new URL("../../scripts/postgres.sh", import.meta.url));
  const env = { ...process.env, PGTEST_PORT: String(port), PGTEST_DIR: `${tmpdir()}/streamable-ts-demo-postgres-${port}` };
  const out = execFileSync("bash", [script, "start"], { encoding: "utf8", env });
  return { url: /DATABASE_URL=(\S+)/.exec(out)![1]!, stop: () => void execFileSync("bash", [script, "stop"], { env }) };
}

/** The run's id for an interval: its bounds, as BullMQ's job ids allow them. */
export const runIdOf = ({ from, to }: Interval) => `${from.toISOString()}_${to.toISOString()}`.replace(/:/g, ".");

/**
 * Runs the job over `options.workers` processes and settles when the interval
 * is done (or, with a schedule, when the signal stops it).
 */
export async function runDistributed(
  options: DistributedOptions,
  env: { warehouse: Warehouse; databaseUrl: string; redisUrl: string; api: Api; token: string },
  hooks: DistributedHooks,
): Promise<DistributedResult> {
  const { workers: n, shardSize = 1000, asCompleted = false, lockDuration = 2000 } = options;
  const { warehouse, redisUrl, api } = env;
  const redis = await connectRedis(redisUrl);
  const queueName = options.schedule ? "demo-schedule" : "demo-once";
  const queue = new Queue(queueName, { connection: redis });
  // A one-off run starts from an empty queue; a schedule keeps its queue and its watermark across restarts.
  if (!options.schedule) await queue.obliterate({ force: true });

  const config: WorkerConfig = {
    queue: queueName,
    redisUrl,
    databaseUrl: env.databaseUrl,
    apiUrl: api.url,
    token: env.token,
    rate: options.rate,
    concurrency: options.concurrency,
    timeout: options.timeout,
    asCompleted,
    lockDuration,
  };
  const entry = fileURLToPath(new URL("./shard-worker.ts", import.meta.url));
  const running = new Set<WorkerProcess>();
  const finished: WorkerProcess[] = [];
  let stopping = false;
  let replaced = 0;
  const total = () => sumStats([...finished, ...running].map((w) => w.stats));

  /** Starts a worker; one that exits before the run is over is replaced at once. */
  const start = async (): Promise<void> => {
    const child = fork(entry, [], { execArgv: ["--import", "tsx"], env: { ...process.env, DEMO_WORKER: JSON.stringify(config) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const worker: WorkerProcess = { child, stats: { usersRead: 0, batchesPosted: 0, retries: 0, tooManyRequests: 0 }, cpuMicros: 0 };
    running.add(worker);
    let wasReady = false;
    const ready = new Promise<void>((resolve, reject) => {
      child.once("exit", (code, signal) => reject(new Error(`a worker exited (${signal ?? code}) before it was ready`)));
      child.on("message", (message: WorkerMessage) => {
        if ("ready" in message) (wasReady = true), resolve();
        else if ("shard" in message) hooks.onShard?.({ type: message.shard, jobId: message.jobId, worker });
        else {
          worker.stats = message.stats;
          worker.cpuMicros = message.cpuMicros;
          hooks.onProgress?.(total(), [...running]);
        }
      });
    });
    child.once("exit", (code, signal) => {
      running.delete(worker);
      finished.push(worker);
      // One that could not start fails the run (started again, it would fail again).
      if (stopping || !wasReady) return;
      replaced++;
      hooks.print(`a worker exited (${signal ?? `code ${code}`}); starting a fresh one: its shard resumes at its cursor`);
      start().catch((error: Error) => hooks.print(`could not start a worker: ${error.message}`));
    });
    await ready;
  };

  const completed: Interval[] = [];
  let current: Interval | undefined;
  /** Plans the interval's shards (a no-op if they are planned already) and waits until they complete. */
  const runInterval = async (interval: Interval, signal: AbortSignal) => {
    current = interval;
    const ranges = await warehouse.idRanges(interval, shardSize);
    const run = runIdOf(interval);
    const { jobIds, added } = await planShards(
      queue,
      run,
      ranges.map((range) => ({ id: `${range.after + 1}-${range.to}`, data: shardData(interval, range) })),
      { attempts: 5, backoff: 1000 },
    );
    // A schedule catching up runs many empty intervals: they go by without a line.
    if (jobIds.length > 0) hooks.print(`interval ${interval.from.toISOString()} to ${interval.to.toISOString()}: ${jobIds.length} shards (${added} enqueued now)`);
    await shardsCompleted(queue, jobIds, { signal, every: 100 });
    completed.push(interval);
    current = undefined;
  };

  hooks.starting?.(`starting ${n} worker processes`);
  // Progress of all the workers, every 2 s while it moves.
  let shown = 0;
  const progress = setInterval(() => {
    const t = total();
    if (t.batchesPosted === shown) return;
    shown = t.batchesPosted;
    hooks.print(`progress: ${t.usersRead} users read, ${t.batchesPosted} batches delivered, ${t.retries} retries, by ${running.size} workers`);
  }, 2000);
  try {
    await Promise.all(Array.from({ length: n }, start));
    if (options.schedule) {
      const { every, since } = options.schedule;
      await runSchedule({ connection: redis, name: "demo", every, since, runInterval, signal: hooks.signal, log: (line) => / failed /.test(line) && hooks.print(`schedule: ${line}`), retryAfter: 5000 });
    } else {
      await runInterval(options.interval, hooks.signal);
    }
  } finally {
    clearInterval(progress);
    stopping = true;
    // Workers stop gracefully: a shard still running goes back to the queue, its delivered batches committed.
    const exits = [...running].map((w) => once(w.child, "exit"));
    for (const w of running) w.child.kill("SIGTERM");
    await Promise.all(exits);
    await queue.close();
    await redis.quit().catch(() => redis.disconnect());
  }
  const workerCpuMicros = [...finished, ...running].reduce((a, w) => a + w.cpuMicros, 0);
  return { stats: total(), completed, running: current, workersReplaced: replaced, workerCpuMicros };
}

/** The port of the local Redis a schedule leaves running, when there is no REDIS_URL. */
export const SCHEDULE_REDIS_PORT = 63799;

/** Redis and PostgreSQL for the run: from the environment, or started here (and stopped by `stop`). */
export async function servers(starting: ((step: string) => void) | undefined, { keepRedis = false } = {}): Promise<{ redisUrl: string; databaseUrl: string; stop: () => void }> {
  starting?.(
    process.env.REDIS_URL
      ? "using the Redis at REDIS_URL"
      : keepRedis
        ? `using a local Redis on port ${SCHEDULE_REDIS_PORT}, left running: it keeps the schedule's watermark for the next start (REDIS_TEST_PORT=${SCHEDULE_REDIS_PORT} scripts/redis.sh stop)`
        : "starting a local Redis (queue, shared quota)",
  );
  const redis = await localRedis({ keepOnPort: keepRedis ? SCHEDULE_REDIS_PORT : 0 });
  try {
    // A wrong REDIS_URL fails here, before a database is started, with the URL (its password hidden).
    await (await connectRedis(redis.url)).quit();
    starting?.(process.env.DATABASE_URL ? "using the PostgreSQL at DATABASE_URL" : "starting a local PostgreSQL (scripts/postgres.sh): the workers share it");
    const pg = await localPostgres();
    return { redisUrl: redis.url, databaseUrl: pg.url, stop: () => (pg.stop(), redis.stop()) };
  } catch (error) {
    redis.stop();
    throw error;
  }
}
