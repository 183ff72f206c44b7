/**
 * `npm run demo`: runs the reverse-ETL job end to end against a local API and an
 * embedded PostgreSQL (or the one at DATABASE_URL), then checks the result.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startApiWorker, type Api } from "./api.js";
import { reverseEtl, type JobOptions, type JobStats } from "./job.js";
import { hasSeededCopy, openWarehouse, type Interval, type Warehouse } from "./warehouse.js";
import { summarize, type Summary } from "./summary.js";
import { localRedis, runInProcesses, splitRows } from "./processes.js";
import { progress, stream } from "streamable-ts";
// The sharded job's modules (BullMQ and its Redis client) load only with --workers: the plain demo starts sooner.
import type { DistributedHooks, Schedule } from "./distributed.js";

const HELP = `Usage: npm run demo -- [options]

Runs the reference reverse-ETL job: users updated in an interval are read from a
PostgreSQL warehouse (embedded PGlite, or DATABASE_URL), grouped by 100, and
POSTed to a local third-party API that enforces a rate limit, fails some calls
with a 503 and needs a bearer token. Prints the plan, progress and a summary;
exits non-zero if the job failed or the API does not hold every user exactly once.
Ctrl-C (SIGINT) or SIGTERM stops it: calls in flight are aborted, the summary is
printed, and it exits with 130 (SIGINT) or 143 (SIGTERM).

Options:
  --interval FROM/TO   update times to extract, ISO dates  (default 2025-04-01/2025-07-01)
  --rate N             the API's limit, requests per second (default 16)
  --concurrency N      POSTs at a time                      (default 3)
  --timeout MS         deadline of one API call, retried    (default 10000)
  --processes N        OS processes sharing one quota through Redis (default 1)
  --workers N          run it as shards on a BullMQ queue: one planner (this
                       process) and N worker processes, over a local PostgreSQL
                       (scripts/postgres.sh) or DATABASE_URL, and a local Redis
                       or REDIS_URL; a worker that dies is replaced and its
                       shard resumes at its cursor
  --shard-size N       users per shard, with --workers     (default 1000)
  --as-completed       with --workers, post as calls complete (commits follow
                       the contiguous watermark)
  --schedule "every N min|h|s"  with --workers, run each interval as it falls
                       due, catching up missed ones (a watermark in Redis);
                       runs until stopped
  --since DATE         with --schedule, the first interval's start (default: now)
  --fail-rate X        share of calls the API fails, 0 to 1 (default 0.05)
  --help               this text

Environment:
  DATABASE_URL         read from this PostgreSQL server (through pg, with a cursor)
  DEMO_API_TOKEN       the local API's bearer token (default: a random one per run)
  REDIS_URL            with --processes, share the quota through this Redis
                       (default: a local redis-server on a free port, stopped at the end)
`;

export interface DemoOptions {
  readonly interval: Interval;
  readonly rate: number;
  readonly concurrency: number;
  readonly failRate: number;
  /** Deadline of one API call, in ms. @default 10_000 */
  readonly timeout?: number;
  /** OS processes to run the job in, sharing one quota through Redis. @default 1 */
  readonly processes?: number;
  /** Worker processes taking shards from a BullMQ queue (the distributed job); undefined runs it here. */
  readonly workers?: number;
  readonly shardSize?: number;
  readonly asCompleted?: boolean;
  readonly schedule?: Schedule;
}

/** A mistake on the command line: shown with the help text. */
class UsageError extends Error {}

export function parseOptions(argv: string[]): DemoOptions | "help" {
  try {
    return parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parse(argv: string[]): DemoOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      interval: { type: "string", default: "2025-04-01/2025-07-01" },
      rate: { type: "string", default: "16" },
      concurrency: { type: "string", default: "3" },
      timeout: { type: "string", default: "10000" },
      processes: { type: "string", default: "1" },
      "fail-rate": { type: "string", default: "0.05" },
      workers: { type: "string" },
      "shard-size": { type: "string", default: "1000" },
      "as-completed": { type: "boolean", default: false },
      schedule: { type: "string" },
      since: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  const [from, to] = values.interval.split("/").map((d) => new Date(d));
  if (!from || !to || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
    throw new Error(`--interval must be FROM/TO, two ISO dates in order, got "${values.interval}"`);
  }
  const number = (name: string, text: string, ok: (n: number) => boolean) => {
    const n = Number(text);
    if (!ok(n)) throw new Error(`--${name} is out of range: "${text}"`);
    return n;
  };
  const workers = values.workers === undefined ? undefined : number("workers", values.workers, (n) => Number.isInteger(n) && n >= 1 && n <= 64);
  if (workers === undefined) {
    for (const flag of ["schedule", "since", "as-completed"] as const) if (values[flag]) throw new Error(`--${flag} needs --workers`);
  }
  if (values.since !== undefined && values.schedule === undefined) throw new Error("--since needs --schedule");
  let schedule: Schedule | undefined;
  if (values.schedule !== undefined) {
    const match = /^every (\d+) ?(s|sec|min|h|hour)s?$/.exec(values.schedule.trim());
    const every = match ? Number(match[1]) * { s: 1000, sec: 1000, min: 60_000, h: 3_600_000, hour: 3_600_000 }[match[2] as "s"] : NaN;
    if (!(every >= 1000 && every <= 24 * 3_600_000)) throw new Error(`--schedule must read "every N s|min|h", from 1 s to 24 h, got "${values.schedule}"`);
    const since = values.since === undefined ? new Date(Math.floor(Date.now() / every) * every) : new Date(values.since);
    if (Number.isNaN(since.getTime())) throw new Error(`--since must be an ISO date, got "${values.since}"`);
    schedule = { every, since };
  }
  return {
    ...(workers === undefined
      ? {}
      : { workers, shardSize: number("shard-size", values["shard-size"], (n) => Number.isInteger(n) && n >= 100), asCompleted: values["as-completed"], schedule }),
    interval: { from, to },
    rate: number("rate", values.rate, (n) => Number.isInteger(n) && n >= 1),
    concurrency: number("concurrency", values.concurrency, (n) => Number.isInteger(n) && n >= 1),
    failRate: number("fail-rate", values["fail-rate"], (n) => n >= 0 && n < 1),
    timeout: number("timeout", values.timeout, (n) => Number.isInteger(n) && n >= 1 && n <= 3_600_000),
    processes: number("processes", values.processes, (n) => Number.isInteger(n) && n >= 1 && n <= 64),
  };
}

export interface DemoOutput {
  /** Where the plan and the summary go. */
  readonly print?: (line: string) => void;
  /** Where progress lines go; stderr by default. */
  readonly log?: JobOptions["log"];
  /** Stops the job: the calls in flight are aborted, the warehouse's reader is closed, and the summary says so. */
  readonly signal?: AbortSignal;
  /** Told of each start-up step as it begins (the CLI prints them on stderr). */
  readonly starting?: (step: string) => void;
  /** Told of the API once it runs: fault tests kill it mid-run. */
  readonly onApi?: (api: Api) => void;
  /** With --workers: told at each worker's report, with the workers running (fault tests kill one). */
  readonly onProgress?: DistributedHooks["onProgress"];
  /** With --workers: told of each shard's course in each worker. */
  readonly onShard?: DistributedHooks["onShard"];
}

/** A stop that came before the job could start: nothing was read or sent. */
export class StoppedDuringStartUp extends Error {}

/**
 * `starting`, unless `signal` aborts first: then it rejects at once with a
 * {@link StoppedDuringStartUp}, and what `starting` opens later is `close`d.
 */
function unlessStopped<T>(starting: Promise<T>, signal: AbortSignal | undefined, close: (opened: T) => Promise<unknown>): Promise<T> {
  if (signal === undefined) return starting;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(new StoppedDuringStartUp(`stopped during start-up: ${(signal.reason as Error)?.message ?? String(signal.reason)}`));
      starting.then(close, () => {}).catch(() => {});
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    starting.then(
      (opened) => (signal.removeEventListener("abort", onAbort), resolve(opened)),
      (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}

/**
 * The job over `options.processes` OS processes sharing one quota through Redis:
 * the rows of the interval are read here (the embedded database is this
 * process's) and split into contiguous shares, one per process.
 */
async function runSharded(
  options: DemoOptions,
  run: { warehouse: Warehouse; apiUrl: string; token: string; stats: JobStats; signal: AbortSignal; starting: ((step: string) => void) | undefined },
): Promise<void> {
  const n = options.processes!;
  run.starting?.(process.env.REDIS_URL ? "sharing the quota through REDIS_URL" : "starting a local Redis for the shared quota");
  const redis = await localRedis();
  try {
    const rows = await stream(run.warehouse.usersUpdatedIn(options.interval, 1000)).toArray({ signal: run.signal });
    run.starting?.(`running the job in ${n} processes`);
    const config = { apiUrl: run.apiUrl, token: run.token, redisUrl: redis.url, rate: options.rate, concurrency: options.concurrency, timeout: options.timeout ?? 10_000 };
    const { stats, failures } = await runInProcesses(splitRows(rows, Array.from({ length: n }, () => 1)), config, run.signal);
    Object.assign(run.stats, stats);
    if (failures.length > 0) throw new Error(`${failures.length} of ${n} processes failed: ${failures.join("; ")}`);
  } finally {
    redis.stop();
  }
}

/**
 * The demo with --workers: a planner here and worker processes taking shards
 * from a queue, over a PostgreSQL and a Redis they share.
 */
async function demoDistributed(options: DemoOptions & { workers: number }, output: DemoOutput): Promise<DemoSummary> {
  const { print = console.log, signal = new AbortController().signal, starting, onApi, onProgress, onShard } = output;
  const [{ runDistributed, servers }, { planOnlyShard, shardJob }] = await Promise.all([import("./distributed.js"), import("./sharded.js")]);
  const token = process.env.DEMO_API_TOKEN ?? randomBytes(16).toString("hex");
  const shared = await servers(starting, { keepRedis: options.schedule !== undefined });
  const opened: (() => Promise<unknown>)[] = [async () => shared.stop()];
  try {
    starting?.("opening the warehouse (seeding 20,000 users if it is empty)");
    const warehouse = await openWarehouse(shared.databaseUrl);
    opened.unshift(() => warehouse.close());
    starting?.("starting the API");
    const api = await startApiWorker({ rate: options.rate, failRate: options.failRate, token });
    opened.unshift(() => api.close());
    onApi?.(api);
    const stats: JobStats = { usersRead: 0, batchesPosted: 0, retries: 0, tooManyRequests: 0 };
    const timeout = options.timeout ?? 10_000;
    const plan = shardJob(planOnlyShard(options.interval), { warehouse, apiUrl: api.url, token, rate: options.rate, concurrency: options.concurrency, timeout, asCompleted: options.asCompleted ?? false }, stats);
    print(`Each shard's plan (${options.workers} workers, shards of ${options.shardSize ?? 1000} users):\n${plan.explain()}\n`);
    const started = performance.now();
    const plannerCpu = process.cpuUsage();
    let failure: unknown;
    let result: Awaited<ReturnType<typeof import("./distributed.js").runDistributed>> | undefined;
    try {
      result = await runDistributed(
        { ...options, timeout },
        { warehouse, databaseUrl: shared.databaseUrl, redisUrl: shared.redisUrl, api, token },
        { print, signal, starting, onProgress, onShard },
      );
    } catch (error) {
      failure = error;
    }
    const elapsedMs = performance.now() - started;
    const plannerUsed = process.cpuUsage(plannerCpu);
    const users = Math.max(1, result?.stats.usersRead ?? 0);
    const cpuPerUser = { planner: (plannerUsed.user + plannerUsed.system) / users, workers: (result?.workerCpuMicros ?? 0) / users };
    const completed = result?.completed ?? [];
    // The completed intervals follow each other: one query over their span.
    const expected = completed.length === 0 ? [] : await warehouse.idsUpdatedIn({ from: completed[0]!.from, to: completed.at(-1)!.to });
    const partial = result?.running ? await warehouse.idsUpdatedIn(result.running) : [];
    const received = await api.snapshot();
    // A stop (Ctrl-C, SIGTERM) is how a schedule ends: not a failure of the job.
    if (failure === undefined && signal.aborted && !options.schedule) failure = signal.reason;
    const summary = summarize({
      stats: result?.stats ?? stats,
      expected: options.schedule || completed.length > 0 ? expected : undefined,
      partial,
      log: received,
      rate: options.rate,
      elapsedMs,
      failure,
      extra: [
        `  workers               ${options.workers}, ${result?.workersReplaced ?? 0} replaced after they died`,
        `  CPU per user read     ${cpuPerUser.planner.toFixed(1)} µs in the planner (with the API's thread), ${cpuPerUser.workers.toFixed(1)} µs in the workers (once started)`,
        ...(options.schedule ? [`  intervals completed   ${completed.length}${result?.running ? ", one stopped midway (it resumes at its cursor next time)" : ""}`] : []),
      ],
    });
    print(summary.text);
    return { ...summary, cpuPerUser };
  } finally {
    for (const close of opened) await close().catch(() => {});
  }
}

/** A demo's summary; with --workers, the CPU time per user read, µs, in the planner process and in the workers. */
export type DemoSummary = Summary & { readonly cpuPerUser?: { readonly planner: number; readonly workers: number } };

/** Runs the whole demo and returns its summary (`ok` tells the exit code). */
export async function demo(options: DemoOptions, output: DemoOutput = {}): Promise<DemoSummary> {
  if (options.workers !== undefined) return demoDistributed(options as DemoOptions & { workers: number }, output);
  const { print = console.log, log, signal, starting, onApi } = output;
  // The API's secret: from the environment, else a fresh one per run (never a constant in code).
  const token = process.env.DEMO_API_TOKEN ?? randomBytes(16).toString("hex");
  // Start-up takes seconds (PGlite seeds 20,000 users): a stop meanwhile acts at once, and what opens later is closed.
  starting?.(
    process.env.DATABASE_URL
      ? "connecting to the warehouse at DATABASE_URL"
      : hasSeededCopy()
        ? "starting the warehouse (embedded PostgreSQL, from its seeded copy in node_modules/.cache)"
        : "starting the warehouse (embedded PostgreSQL: a first run seeds 20,000 users and keeps a copy for the next runs, about 5 s)",
  );
  const warehouse = await unlessStopped(openWarehouse(), signal, (w) => w.close());
  starting?.("starting the API");
  const api = await unlessStopped(startApiWorker({ rate: options.rate, failRate: options.failRate, token }), signal, (a) => a.close()).catch(
    async (error: unknown) => {
      await warehouse.close();
      throw error;
    },
  );
  onApi?.(api);
  const stats: JobStats = { usersRead: 0, batchesPosted: 0, retries: 0, tooManyRequests: 0 };
  // On a terminal (and unless the caller takes the observations), a live line per step with the time left:
  // the totals are known, since the warehouse can count the interval.
  const users = log === undefined && process.stderr.isTTY ? (await warehouse.idsUpdatedIn(options.interval).catch(() => [])).length : 0;
  const display = progress({ output: log === undefined ? process.stderr : { write: () => true }, totals: { users, "user batches": Math.ceil(users / 100), "integrated user batches": Math.ceil(users / 100) } });
  const job = reverseEtl(
    { warehouse, interval: options.interval, apiUrl: api.url, token, rate: options.rate, concurrency: options.concurrency, timeout: options.timeout, log, ...(display.live ? { observe: display.options } : {}) },
    stats,
  );
  print(`The job's plan:\n${job.explain()}\n`);
  // The run stops on the user's signal, or when the warehouse's connection fails mid-run.
  const stopRun = new AbortController();
  const forward = () => stopRun.abort(signal!.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener("abort", forward, { once: true });
  warehouse.onFailure((error) => stopRun.abort(new Error(`the warehouse failed: ${error.message}`)));
  const started = performance.now();
  let failure: unknown;
  try {
    if (options.processes !== undefined && options.processes > 1) {
      await runSharded(options, { warehouse, apiUrl: api.url, token, stats, signal: stopRun.signal, starting });
    } else {
      await job.run({ signal: stopRun.signal });
    }
  } catch (error) {
    failure = error;
  } finally {
    signal?.removeEventListener("abort", forward);
    display.close();
  }
  const elapsedMs = performance.now() - started;
  // A warehouse that failed cannot say what the interval holds; an API that died cannot say what it got.
  const expected = await warehouse.idsUpdatedIn(options.interval).catch(() => undefined);
  const received = await api.snapshot().catch((error: unknown) => {
    failure ??= error;
    return { requests: [], received: new Map<number, number>(), statuses: {}, resent: 0, keys: [] };
  });
  await Promise.all([api.close(), warehouse.close().catch(() => {})]);
  const summary = summarize({ stats, expected, log: received, rate: options.rate, elapsedMs, failure });
  print(summary.text);
  return summary;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const options = parseOptions(process.argv.slice(2));
    if (options === "help") console.log(HELP);
    else {
      // Ctrl-C or a stop from a scheduler ends the job cleanly: in-flight calls aborted, warehouse reader closed, summary printed.
      const stop = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      const interrupt = (signal: NodeJS.Signals) => {
        stoppedBy ??= signal;
        stop.abort(new Error(`interrupted by ${signal}`));
      };
      process.once("SIGINT", interrupt).once("SIGTERM", interrupt);
      // The shell's convention: 128 + the signal's number (SIGINT 2, SIGTERM 15).
      const stoppedCode = () => (stoppedBy === "SIGTERM" ? 143 : 130);
      try {
        const summary = await demo(options, { signal: stop.signal, starting: (step) => console.error(`${step}...`) });
        process.exitCode = summary.ok ? 0 : stoppedBy ? stoppedCode() : 1;
      } catch (error) {
        if (!(error instanceof StoppedDuringStartUp)) throw error;
        console.error(`${error.message}; nothing was read or sent`);
        // The embedded database's start cannot be cancelled and would hold the process until it is done.
        process.exit(stoppedCode());
      } finally {
        process.off("SIGINT", interrupt).off("SIGTERM", interrupt);
      }
    }
  } catch (error) {
    if ((error as Error)?.name === "RedisUnreachable") {
      console.error((error as Error).message);
      process.exitCode = 1;
    } else {
      if (!(error instanceof UsageError)) throw error;
      console.error(`${error.message}\n\n${HELP}`);
      process.exitCode = 2;
    }
  }
}
