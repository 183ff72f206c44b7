// The demo's sharded job (`npm run demo -- --workers N`) with the real parts: worker processes on a
// BullMQ queue in the Redis that scripts/redis.sh starts, the PostgreSQL that scripts/postgres.sh
// starts, and the local API. Workers are killed (SIGKILL) and stopped (SIGTERM) mid-run.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { batchKey } from "../examples/reverse-etl/job.js";
import { demo, parseOptions, type DemoOptions } from "../examples/reverse-etl/main.js";
import { openWarehouse } from "../examples/reverse-etl/warehouse.js";
import { freePort, haveCommand } from "./support/servers.js";

const postgres = fileURLToPath(new URL("../scripts/postgres.sh", import.meta.url));
const redisScript = fileURLToPath(new URL("../scripts/redis.sh", import.meta.url));
const haveServers = existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").length > 0 && haveCommand("redis-server");
// In CI a missing server is a failure, not a skip: .ci/run installs them.
const skip = !haveServers && !process.env.CI && "no PostgreSQL or redis-server here (scripts/postgres.sh install, scripts/redis.sh install)";
let pgEnv: NodeJS.ProcessEnv = {};
let redisEnv: NodeJS.ProcessEnv = {};

before(async () => {
  if (skip) return;
  const pgPort = await freePort();
  pgEnv = { ...process.env, PGTEST_PORT: String(pgPort), PGTEST_DIR: `${tmpdir()}/streamable-ts-postgres-${pgPort}` };
  process.env.DATABASE_URL = /DATABASE_URL=(\S+)/.exec(execFileSync("bash", [postgres, "start"], { encoding: "utf8", env: pgEnv }))![1]!;
  redisEnv = { ...process.env, REDIS_TEST_PORT: String(await freePort()) };
  process.env.REDIS_URL = /REDIS_URL=(\S+)/.exec(execFileSync("bash", [redisScript, "start"], { encoding: "utf8", env: redisEnv }))![1]!;
});
after(() => {
  if (skip) return;
  delete process.env.DATABASE_URL;
  delete process.env.REDIS_URL;
  execFileSync("bash", [postgres, "stop"], { env: pgEnv });
  execFileSync("bash", [redisScript, "stop"], { env: redisEnv });
});

const year = { from: new Date("2025-01-01"), to: new Date("2026-01-01") };
/** 20 shards of 1,000 users (19,997 in 2025), 4 workers, 16 requests/s. */
const options = (asCompleted: boolean): DemoOptions => ({ interval: year, rate: 16, concurrency: 3, failRate: 0.05, timeout: 10_000, workers: 4, shardSize: 1000, asCompleted });

/** The keys of an uninterrupted run: each shard's users by id, in batches of 100. */
async function uninterruptedKeys(): Promise<Set<string>> {
  const warehouse = await openWarehouse(process.env.DATABASE_URL);
  try {
    const keys = new Set<string>();
    for (const range of await warehouse.idRanges(year, 1000)) {
      const ids = (await warehouse.idsUpdatedIn(year)).filter((id) => id > range.after && id <= range.to);
      for (let i = 0; i < ids.length; i += 100) keys.add(batchKey(ids.slice(i, i + 100).map((id) => ({ id, email: "", name: "" }))));
    }
    return keys;
  } finally {
    await warehouse.close();
  }
}

test("kill and resume: a worker killed mid-run (SIGKILL), five runs: every shard completes, no user lost or taken twice, within the quota", { skip, timeout: 300_000 }, async (t) => {
  const expectedKeys = await uninterruptedKeys();
  for (let run = 1; run <= 5; run++) {
    const asCompleted = run % 2 === 0; // both ways of committing: after each batch in order, and the contiguous watermark
    // A random moment in the middle 60% of the run's 200 batches.
    const killAt = 40 + Math.floor(Math.random() * 120);
    const printed: string[] = [];
    let killed = 0;
    const summary = await demo(options(asCompleted), {
      print: (line) => void printed.push(line),
      onProgress: (total, workers) => {
        if (killed === 0 && total.batchesPosted >= killAt && workers.length === 4) {
          killed++;
          workers[Math.floor(Math.random() * 4)]!.child.kill("SIGKILL");
        }
      },
    });
    const text = `run ${run} (${asCompleted ? "as completed" : "in order"}, killed after ${killAt} batches):\n${printed.join("\n")}`;
    assert.equal(killed, 1, `one worker was killed; ${text}`);
    assert.match(text, /a worker exited \(SIGKILL\); starting a fresh one/, "a fresh worker replaced it");
    assert.ok(summary.ok, `every shard completed and the API holds each user once; ${text}`);
    assert.match(text, /users delivered {7}19997 distinct at the API, 0 of them more than once/);
    // What a kill sends again: at most the watermark's window, the map's concurrency, in order and as completed alike.
    assert.ok(summary.resent <= 3, `re-sent batches at most the map's concurrency (3) per kill, got ${summary.resent}; ${text}`);
    assert.ok(summary.peak <= 16, `the API's busiest second at most 16, got ${summary.peak}; ${text}`);
    // The resumed shard regrouped the same batches after its cursor: the API took exactly the keys of an uninterrupted run.
    assert.deepEqual(new Set(summary.keys), expectedKeys, `the same idempotency keys as an uninterrupted run; ${text}`);
    assert.equal(summary.keys.length, expectedKeys.size, "each key taken once");
    t.diagnostic(`run ${run} (${asCompleted ? "as completed" : "in order"}): killed after ${killAt} batches, ${summary.resent} re-sent, busiest second ${summary.peak}`);
  }
});

test("graceful stop: SIGTERM mid-shard re-sends nothing, and an idle worker takes the shard within a second", { skip, timeout: 120_000 }, async (t) => {
  const printed: string[] = [];
  let stopped: { pid: number; jobId: string } | undefined;
  let handedBackAt: number | undefined;
  const retaken: number[] = [];
  /** The shard each worker runs now, by pid, and since when. */
  const current = new Map<number, { jobId: string; since: number }>();
  /** Workers that completed a shard and have not started another. */
  const idle = new Set<number>();
  /** Shards started at least once: all 10 (19,997 users by 2,000) once the queue has run dry. */
  const startedShards = new Set<string>();
  const summary = await demo({ ...options(false), shardSize: 2000 }, {
    print: (line) => void printed.push(line),
    onShard: ({ type, jobId, worker }) => {
      const pid = worker.child.pid!;
      if (type === "completed") idle.add(pid);
      if (type === "started") {
        startedShards.add(jobId);
        idle.delete(pid);
        current.set(pid, { jobId, since: performance.now() });
        if (jobId === stopped?.jobId && handedBackAt !== undefined) retaken.push(performance.now() - handedBackAt);
      } else current.delete(pid);
      if (type === "handed back" && pid === stopped?.pid) handedBackAt = performance.now();
    },
    onProgress: (_total, workers) => {
      // Once a worker is idle (the queue has run dry), stop one that is in the middle of a shard.
      if (stopped !== undefined || workers.length < 4 || startedShards.size < 10 || idle.size === 0) return;
      // Mid-shard: the shard started last (the most left to do), once it has run 0.3 s.
      const busy = workers
        .filter((w) => current.has(w.child.pid!))
        .sort((a, b) => current.get(b.child.pid!)!.since - current.get(a.child.pid!)!.since)[0];
      if (busy === undefined || performance.now() - current.get(busy.child.pid!)!.since < 300) return;
      stopped = { pid: busy.child.pid!, jobId: current.get(busy.child.pid!)!.jobId };
      busy.child.kill("SIGTERM");
    },
  });
  const text = printed.join("\n");
  assert.ok(stopped, `a worker was stopped mid-shard; ${text}`);
  assert.match(text, /a worker exited \(code 143\)/, "the stopped worker exits with 143");
  assert.ok(handedBackAt !== undefined, `its shard went back to the queue; ${text}`);
  assert.equal(retaken.length, 1, "and was taken again, once");
  assert.ok(retaken[0]! < 1000, `within a second, took ${retaken[0]!.toFixed(0)} ms`);
  t.diagnostic(`the shard was taken again ${retaken[0]!.toFixed(0)} ms after it went back`);
  assert.ok(summary.ok, text);
  assert.equal(summary.resent, 0, `nothing was sent twice; ${text}`);
});

test("the demo with --workers refuses an unreachable Redis at start, naming its URL without the password", { skip, timeout: 60_000 }, async () => {
  const port = await freePort();
  const run = promisify(execFile)(process.execPath, ["--import", "tsx", "examples/reverse-etl/main.ts", "--workers", "2"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, REDIS_URL: `redis://demo:s3cret@127.0.0.1:${port}` },
  });
  await assert.rejects(run, (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, new RegExp(`cannot reach Redis at redis://demo:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(error.stderr, /s3cret/);
    return true;
  });
});

test("the demo's sharding options are checked, naming the flag", () => {
  assert.throws(() => parseOptions(["--schedule", "every 1 min"]), /--schedule needs --workers/);
  assert.throws(() => parseOptions(["--workers", "2", "--schedule", "hourly"]), /--schedule must read "every N s\|min\|h"/);
  assert.throws(() => parseOptions(["--workers", "0"]), /--workers is out of range: "0"/);
  assert.throws(() => parseOptions(["--workers", "2", "--since", "2025-01-01"]), /--since needs --schedule/);
  const parsed = parseOptions(["--workers", "4", "--schedule", "every 1 min", "--since", "2025-01-01"]);
  assert.ok(parsed !== "help", "options, not the help");
  assert.deepEqual(parsed.schedule, { every: 60_000, since: new Date("2025-01-01") });
  assert.equal(parsed.workers, 4);
});
