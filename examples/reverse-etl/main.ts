/**
 * `npm run demo`: runs the reverse-ETL job end to end against a local API and an
 * embedded PostgreSQL (or the one at DATABASE_URL), then checks the result.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startApiWorker, type Api } from "./api.js";
import { reverseEtl, type JobOptions, type JobStats } from "./job.js";
import { openWarehouse, type Interval, type Warehouse } from "./warehouse.js";
import { summarize, type Summary } from "./summary.js";
import { localRedis, runInProcesses, splitRows } from "./processes.js";
import { stream } from "streamable-ts";

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
  return {
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

/** Runs the whole demo and returns its summary (`ok` tells the exit code). */
export async function demo(options: DemoOptions, { print = console.log, log, signal, starting, onApi }: DemoOutput = {}): Promise<Summary> {
  // The API's secret: from the environment, else a fresh one per run (never a constant in code).
  const token = process.env.DEMO_API_TOKEN ?? randomBytes(16).toString("hex");
  // Start-up takes seconds (PGlite seeds 20,000 users): a stop meanwhile acts at once, and what opens later is closed.
  starting?.(process.env.DATABASE_URL ? "connecting to the warehouse at DATABASE_URL" : "starting the warehouse (embedded PostgreSQL, seeding 20,000 users)");
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
  const job = reverseEtl({ warehouse, interval: options.interval, apiUrl: api.url, token, rate: options.rate, concurrency: options.concurrency, timeout: options.timeout, log }, stats);
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
  }
  const elapsedMs = performance.now() - started;
  // A warehouse that failed cannot say what the interval holds; an API that died cannot say what it got.
  const expected = await warehouse.idsUpdatedIn(options.interval).catch(() => undefined);
  const received = await api.snapshot().catch((error: unknown) => {
    failure ??= error;
    return { requests: [], received: new Map<number, number>(), statuses: {} };
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
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${HELP}`);
    process.exitCode = 2;
  }
}
