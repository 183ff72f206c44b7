/**
 * One process of `npm run demo -- --processes N`: runs the job over the share of
 * the interval its parent hands it, posting to the same API under one quota kept
 * in Redis. Its parent sends `{ rows }` once; it answers `{ stats, failure }`.
 */
import { Redis } from "ioredis";
import { redisStore } from "streamable-ts/redis";
import { reverseEtl, type JobStats } from "./job.js";
import type { UserRow, Warehouse } from "./warehouse.js";

export interface ShareConfig {
  readonly apiUrl: string;
  readonly token: string;
  readonly redisUrl: string;
  readonly rate: number;
  readonly concurrency: number;
  readonly timeout: number;
}

export interface ShareReport {
  readonly stats: JobStats;
  readonly failure: string | undefined;
}

const config = JSON.parse(process.env.DEMO_SHARE!) as ShareConfig;
const rows = await new Promise<UserRow[]>((resolve) => process.once("message", (message: { rows: UserRow[] }) => resolve(message.rows)));
// Commands wait while Redis is away (restarted, say): the job slows down and never goes over the quota.
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
redis.on("error", () => {}); // the store waits for it to come back; its errors are not ours to crash on
const stats: JobStats = { usersRead: 0, batchesPosted: 0, retries: 0, tooManyRequests: 0 };
const nowhere = {} as Warehouse; // the rows come from the parent
const job = reverseEtl(
  { ...config, warehouse: nowhere, interval: { from: new Date(0), to: new Date(0) }, rows, store: redisStore({ client: redis }), log: () => {} },
  stats,
);
// The parent passes a stop on as SIGTERM: calls in flight are aborted, and this process still reports.
const stop = new AbortController();
process.once("SIGTERM", () => stop.abort(new Error("interrupted by SIGTERM")));
let failure: string | undefined;
try {
  await job.run({ signal: stop.signal });
} catch (error) {
  failure = (error as Error).message ?? String(error);
}
await redis.quit().catch(() => redis.disconnect());
process.send!({ stats, failure } satisfies ShareReport, () => process.disconnect());
