/**
 * `npm run bench:job`: the reference job at the reference document's scale. 10,000,000 rows
 * (`BENCH_JOB_ROWS`) are read from a real PostgreSQL (`DATABASE_URL`, or the throwaway server of
 * `scripts/postgres.sh` on a free port) through a server-side cursor, mapped, grouped by 100 and
 * POSTed 16 at a time to a local API that answers at once, with observe and catch in the chain
 * and no rate limit. The job is written four ways (bench/job-run.ts), each run in a fresh process,
 * in turn, `BENCH_JOB_ROUNDS` times (1 by default: a round takes about ten minutes here); each
 * reports wall time, rows/s, CPU per row, and its resident set size. The API checks that every
 * row arrived once (count and sum of ids), or the run fails.
 */
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { localPostgres } from "../examples/reverse-etl/distributed.js";
import { target } from "./harness.js";
import { CONTESTANTS, type ApiStats, type JobRun } from "./job-run.js";

const rows = Number(process.env.BENCH_JOB_ROWS ?? 10_000_000);
const rounds = Number(process.env.BENCH_JOB_ROUNDS ?? 1);
const runner = fileURLToPath(new URL("./job-run.ts", import.meta.url));
const run = promisify(execFile);

/** The table the job reads, filled once per bench run. */
async function seed(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: existing } = await client.query<{ n: string }>("SELECT count(*) AS n FROM bench_users").catch(() => ({ rows: [{ n: "-1" }] }));
    if (Number(existing[0]!.n) === rows) return;
    await client.query("DROP TABLE IF EXISTS bench_users");
    await client.query("CREATE TABLE bench_users (id integer NOT NULL, email text NOT NULL, name text NOT NULL, updated_at timestamptz NOT NULL)");
    await client.query(
      `INSERT INTO bench_users SELECT i, 'user' || i || '@example.com', 'User ' || i, timestamptz '2025-01-01' + i * interval '1 second' FROM generate_series(1, $1::integer) AS i`,
      [rows],
    );
    await client.query("VACUUM ANALYZE bench_users");
  } finally {
    await client.end();
  }
}

/** The API in a process of its own; its URL once it listens. */
async function startApi(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", runner, "--api"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once("data", (line: Buffer) => resolve(line.toString().trim()));
    child.once("exit", (code) => reject(new Error(`bench:job: the API exited with ${code} before it listened`)));
  });
  return { url, stop: () => void child.kill() };
}

async function apiStats(url: string): Promise<ApiStats> {
  return (await (await fetch(`${url}/stats`)).json()) as ApiStats;
}

async function runOne(name: string, databaseUrl: string, apiUrl: string): Promise<JobRun> {
  await fetch(`${apiUrl}/reset`, { method: "POST" });
  const { stdout } = await run(process.execPath, ["--import", "tsx", runner, "--contestant", name, databaseUrl, apiUrl, String(rows)], { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as JobRun;
  // The API's count is the proof: every row once, in batches of 100.
  const stats = await apiStats(apiUrl);
  const idSum = (rows * (rows + 1)) / 2;
  if (result.rows !== rows || stats.rows !== rows || stats.idSum !== idSum || stats.requests !== Math.ceil(rows / 100)) {
    throw new Error(`bench:job: ${name} read ${result.rows} rows and the API received ${stats.rows} in ${stats.requests} requests (id sum ${stats.idSum}); expected ${rows} in ${Math.ceil(rows / 100)} (id sum ${idSum})`);
  }
  return result;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const postgres = await localPostgres();
const api = await startApi();
try {
  console.log(`node ${process.version}; ${rows.toLocaleString("en")} rows, ${rounds} round(s), each contestant in a fresh process`);
  const t0 = performance.now();
  await seed(postgres.url);
  console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const results = new Map<string, JobRun[]>(CONTESTANTS.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of CONTESTANTS) {
      const r = await runOne(name, postgres.url, api.url);
      results.get(name)!.push(r);
      console.log(`  round ${round + 1}: ${name}: ${(r.wallMs / 1000).toFixed(1)} s, CPU ${(r.cpuMs / 1000).toFixed(1)} s`);
    }
  }
  const floorName = CONTESTANTS[3];
  const wall = (name: string) => median(results.get(name)!.map((r) => r.wallMs));
  const cpu = (name: string) => median(results.get(name)!.map((r) => r.cpuMs));
  console.log(`\nThe reference job, ${rows.toLocaleString("en")} rows from PostgreSQL, group(100), 16 POSTs at a time (median of ${rounds})`);
  const width = Math.max(...CONTESTANTS.map((c) => c.length));
  for (const name of CONTESTANTS) {
    const runs = results.get(name)!;
    const rss = runs.map((r) => `${mb(r.rssAt100k)} -> ${mb(r.rssPeakAfter100k)}; ${mb(r.rssAtTenth)} -> ${mb(r.rssPeakAfterTenth)}`).join(", ");
    console.log(
      `  ${name.padEnd(width)}  ${(wall(name) / 1000).toFixed(1).padStart(6)} s  ${((rows / wall(name)) * 1000).toFixed(0).padStart(7)} rows/s  ${(wall(name) / wall(floorName)).toFixed(2)}x the floor  CPU ${((cpu(name) * 1000) / rows).toFixed(2)} µs/row (${(cpu(name) / cpu(floorName)).toFixed(2)}x)  RSS at 100k rows -> peak after; at a tenth -> peak after: ${rss}`,
    );
  }
  for (const name of CONTESTANTS.slice(0, 2)) {
    const extra = ((cpu(name) - cpu(floorName)) * 1000) / rows;
    console.log(`  info ${name}: the library's CPU per row beyond the hand-written floor ${extra.toFixed(2)} µs`);
  }
  const ours = CONTESTANTS[0];
  target("job: the library within 1.1x of the hand-written floor in wall time", wall(ours) <= 1.1 * wall(floorName), `${(wall(ours) / wall(floorName)).toFixed(2)}x`);
  target("job: the library within 1.1x of the hand-written floor in CPU", cpu(ours) <= 1.1 * cpu(floorName), `${(cpu(ours) / cpu(floorName)).toFixed(2)}x`);
  // Flat: what a row leaves behind would grow with the rows. From 100,000 rows on, the heap still
  // settles (the hand-written floor grew by about 30 MB there too), so the resident set is read
  // against the floor's, and from a tenth of the rows on, where a steady job stays put.
  const peak = (name: string) => Math.max(...results.get(name)!.map((r) => r.rssPeakAfter100k));
  const fromTenth = Math.max(...results.get(ours)!.map((r) => r.rssPeakAfterTenth - r.rssAtTenth));
  target("job: the library's peak RSS after 100,000 rows within 1.1x the floor's", peak(ours) <= 1.1 * peak(floorName), `${mb(peak(ours))} against ${mb(peak(floorName))}`);
  target("job: the library's RSS flat from a tenth of the rows on (within 16 MB)", fromTenth <= 16 * 2 ** 20, `grew by at most ${mb(Math.max(0, fromTenth))}`);
} finally {
  api.stop();
  postgres.stop();
}
