/**
 * `npm run demo -- --processes N`: the job over N OS processes, each loading
 * its share of the rows to the same API, all under one quota kept in Redis
 * (REDIS_URL, or a local redis-server that scripts/redis.sh starts on a free
 * port). The parent reads the interval (the embedded database belongs to one
 * process) and hands each process its share.
 */
import { execFileSync, fork } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { JobStats } from "./job.js";
import type { ShareConfig, ShareReport } from "./share.js";
import type { UserRow } from "./warehouse.js";

/** Splits `rows` into `weights.length` contiguous shares, sized in proportion to the weights. */
export function splitRows<T>(rows: readonly T[], weights: readonly number[]): T[][] {
  const total = weights.reduce((a, b) => a + b, 0);
  const shares: T[][] = [];
  let start = 0;
  let cumulative = 0;
  for (const w of weights) {
    cumulative += w;
    const end = Math.round((rows.length * cumulative) / total);
    shares.push(rows.slice(start, end));
    start = end;
  }
  return shares;
}

/** Runs one process per share and gathers what they report: stats summed, failures listed. */
export async function runInProcesses(
  shares: readonly (readonly UserRow[])[],
  config: ShareConfig,
  signal?: AbortSignal,
): Promise<{ stats: JobStats; failures: string[] }> {
  const entry = fileURLToPath(new URL("./share.ts", import.meta.url));
  const forked: ReturnType<typeof fork>[] = [];
  const children = shares.map((rows) => {
    const child = fork(entry, [], { execArgv: ["--import", "tsx"], env: { ...process.env, DEMO_SHARE: JSON.stringify(config) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    forked.push(child);
    child.send({ rows });
    const report = new Promise<ShareReport>((resolve) => child.once("message", (m: ShareReport) => resolve(m)));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    return Promise.race([report, exited.then(([code, signal]): ShareReport => ({ stats: { usersRead: 0, batchesPosted: 0, retries: 0, tooManyRequests: 0 }, failure: `a process exited (${signal ?? code}) without a report` }))]).then(
      async (r) => (await exited, r),
    );
  });
  // A stop (Ctrl-C, SIGTERM) goes to every process; each reports what it delivered, or its exit.
  const stopAll = () => {
    for (const child of forked) child.kill("SIGTERM");
  };
  signal?.addEventListener("abort", stopAll, { once: true });
  const reports = await Promise.all(children).finally(() => signal?.removeEventListener("abort", stopAll));
  return { stats: sumStats(reports.map((r) => r.stats)), failures: reports.flatMap((r) => (r.failure ? [r.failure] : [])) };
}

/**
 * A Redis to share the quota through: REDIS_URL, or a throwaway local one
 * (stopped by `stop`), or with `keepOnPort` a local one left running for the
 * next run.
 */
export async function localRedis({ fromEnvironment = true, keepOnPort = 0 } = {}): Promise<{ url: string; stop: () => void }> {
  if (fromEnvironment && process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => {} };
  if (keepOnPort > 0) {
    // One that outlives this process (a schedule's watermark must survive a restart): reused if it runs already.
    const url = `redis://127.0.0.1:${keepOnPort}`;
    const running = await new Promise<boolean>((resolve) => {
      const socket = connect(keepOnPort, "127.0.0.1", () => (socket.end(), resolve(true))).on("error", () => resolve(false));
    });
    if (!running) execFileSync("bash", [fileURLToPath(new URL("../../scripts/redis.sh", import.meta.url)), "start"], { env: { ...process.env, REDIS_TEST_PORT: String(keepOnPort) } });
    return { url, stop: () => {} };
  }
  const port = await freePort();
  const script = fileURLToPath(new URL("../../scripts/redis.sh", import.meta.url));
  const env = { ...process.env, REDIS_TEST_PORT: String(port) };
  const out = execFileSync("bash", [script, "start"], { encoding: "utf8", env });
  return { url: /REDIS_URL=(\S+)/.exec(out)![1]!, stop: () => void execFileSync("bash", [script, "stop"], { env }) };
}

/** A TCP port free on loopback now. */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The counts of several processes, added up. */
export function sumStats(all: Iterable<JobStats>): JobStats {
  const total: JobStats = { usersRead: 0, batchesPosted: 0, retries: 0, tooManyRequests: 0 };
  for (const s of all) for (const k of Object.keys(total) as (keyof JobStats)[]) total[k] += s[k];
  return total;
}
