/**
 * One worker process of `npm run demo -- --workers N`: takes shards from the
 * queue, reads each shard's rows from PostgreSQL after its cursor and posts
 * them under the quota shared through Redis. It reports its counts to its
 * parent as it goes. SIGTERM stops it gracefully (the shard running goes back
 * to the queue at once, its delivered batches committed) and it exits with 143;
 * the message "stop" does the same with 0.
 */
import { Redis } from "ioredis";
import { startShardWorker, type ShardEvent } from "streamable-ts/bullmq";
import { redisStore } from "streamable-ts/redis";
import type { JobStats } from "./job.js";
import { parseShard, shardJob, type ShardJobOptions, type ShardWork } from "./sharded.js";
import { openWarehouse } from "./warehouse.js";

/** What the planner hands each worker (JSON): the shard job's settings, and where the servers are. */
export interface WorkerConfig extends Omit<ShardJobOptions, "warehouse" | "store" | "log"> {
  readonly queue: string;
  readonly redisUrl: string;
  readonly databaseUrl: string;
  /** How long a shard's lock lasts: a killed worker's shard is taken again after about this. */
  readonly lockDuration: number;
}

/** What a worker tells its parent: its counts so far, and when it is ready. */
export type WorkerMessage = { readonly ready: true } | { readonly stats: JobStats; readonly cpuMicros: number } | { readonly shard: ShardEvent["type"]; readonly jobId: string };

const config = JSON.parse(process.env.DEMO_WORKER!) as WorkerConfig;
const stats: JobStats = { usersRead: 0, batchesPosted: 0, retries: 0, tooManyRequests: 0 };
/** CPU time counts from the moment the worker is ready: loading the code (tsx) is not the job's. */
let cpuAtStart = process.cpuUsage();
const report = () => {
  const cpu = process.cpuUsage(cpuAtStart);
  process.send?.({ stats, cpuMicros: cpu.user + cpu.system } satisfies WorkerMessage);
};
const reporting = setInterval(report, 100);

// The quota's commands wait while Redis is away: the job slows down and never goes over the quota.
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
redis.on("error", () => {});
const warehouse = await openWarehouse(config.databaseUrl, { seed: false }); // the planner seeded it
const store = redisStore({ client: redis });
const worker = await startShardWorker<ShardWork, number>(config.queue, {
  connection: config.redisUrl,
  lockDuration: config.lockDuration,
  stalledInterval: Math.max(100, Math.round(config.lockDuration / 2)),
  maxStalledCount: 10,
  parse: parseShard,
  // The planner prints the progress of all workers; each one's own observe lines would interleave.
  work: (shard) => shardJob(shard, { ...config, warehouse, store, log: () => {} }, stats),
  onError: (error) => console.error(`worker ${process.pid}: ${error.message}`),
  onShard: (event) => {
    report();
    process.send?.({ shard: event.type, jobId: event.jobId } satisfies WorkerMessage);
  },
});
cpuAtStart = process.cpuUsage();
process.send?.({ ready: true } satisfies WorkerMessage);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await worker.stop();
  clearInterval(reporting);
  report();
  await Promise.all([warehouse.close(), redis.quit().catch(() => redis.disconnect())]);
  process.exitCode = code;
  process.disconnect?.();
}
process.once("SIGTERM", () => void stop(143));
process.on("message", (message) => message === "stop" && void stop(0));
