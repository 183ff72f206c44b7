// One quota over OS processes, through the real Redis that scripts/redis.sh starts: the demo's `--processes`
// machinery (examples/reverse-etl/processes.ts) against a local API that enforces 16 requests in any sliding
// second and answers in 10-30 ms. These runs take real time (about 10 s each): the quota is a second long.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startApi, type Api } from "../examples/reverse-etl/api.js";
import { demo, parseOptions } from "../examples/reverse-etl/main.js";
import { localRedis, runInProcesses, splitRows } from "../examples/reverse-etl/processes.js";
import { peakPerSecond } from "../examples/reverse-etl/summary.js";
import type { UserRow } from "../examples/reverse-etl/warehouse.js";
import { haveCommand } from "./support/servers.js";

const skip = !haveCommand("redis-server") && !process.env.CI && "no redis-server here (scripts/redis.sh install)";
const RATE = 16;
let redis: { url: string; stop: () => void } | undefined;

before(async () => {
  // Always a server of its own, whatever REDIS_URL says: a test below restarts it.
  if (!skip) redis = await localRedis({ fromEnvironment: false });
});
after(() => redis?.stop());

const rowsOf = (batches: number): UserRow[] =>
  Array.from({ length: batches * 100 }, (_, i) => ({ id: i + 1, email: `user${i + 1}@example.com`, name: `User ${i + 1}`, updated_at: new Date(0) }));

/** Runs `weights.length` processes over 160 batches split by the weights; checks the API and returns the time taken over the ideal. */
async function run(weights: readonly number[], during?: () => Promise<void>): Promise<number> {
  const api: Api = await startApi({ rate: RATE, failRate: 0, token: "t", latencyMs: [10, 30] });
  try {
    const rows = rowsOf(160);
    const work = runInProcesses(splitRows(rows, weights), { apiUrl: api.url, token: "t", redisUrl: redis!.url, rate: RATE, concurrency: 3, timeout: 10_000 });
    await during?.();
    const { stats, failures } = await work;
    const log = await api.snapshot();
    assert.deepEqual(failures, []);
    assert.equal(stats.tooManyRequests, 0, "no 429");
    assert.equal(log.statuses[429] ?? 0, 0, "no 429 at the API");
    assert.ok(peakPerSecond(log.requests) <= RATE, `the API's busiest second held ${peakPerSecond(log.requests)} requests`);
    assert.equal(log.received.size, rows.length, "every user delivered");
    assert.ok([...log.received.values()].every((n) => n === 1), "every user once");
    // The ideal: 160 batches at 16 a second, from the first request to the last one's answer.
    const span = log.requests[log.requests.length - 1]! - log.requests[0]! + 30;
    return span / ((160 / RATE - 1) * 1000 + 30);
  } finally {
    await api.close();
  }
}

test("four processes, one quota: five runs in a row, no 429, the busiest second at most 16, within 1.25x the ideal", { skip }, async () => {
  for (let i = 0; i < 5; i++) {
    const ratio = await run([1, 1, 1, 1]);
    assert.ok(ratio <= 1.25, `run ${i + 1}: ${ratio.toFixed(2)}x the ideal`);
  }
});

test("uneven shares (10/20/40/90 batches) finish within 1.15x the ideal: the idle processes' quota is not wasted", { skip }, async () => {
  const ratio = await run([10, 20, 40, 90]);
  assert.ok(ratio <= 1.15, `${ratio.toFixed(2)}x the ideal`);
});

for (const downMs of [200, 2000]) {
  test(`Redis restarted mid-run after ${downMs} ms: every batch once, no second above 16, the job ends by itself`, { skip }, async () => {
    const script = fileURLToPath(new URL("../scripts/redis.sh", import.meta.url));
    const port = new URL(redis!.url).port;
    const env = { ...process.env, REDIS_TEST_PORT: port };
    await run([1, 1, 1, 1], async () => {
      await new Promise((resolve) => setTimeout(resolve, 4000));
      execFileSync("bash", [script, "stop"], { env });
      await new Promise((resolve) => setTimeout(resolve, downMs));
      execFileSync("bash", [script, "start"], { env });
    });
  });
}

test("npm run demo -- --processes 3: the demo's job over three processes, one quota, every user once", { skip }, async () => {
  const printed: string[] = [];
  const options = parseOptions(["--interval", "2025-03-01/2025-03-15", "--rate", "50", "--fail-rate", "0.05", "--processes", "3"]);
  assert.notEqual(options, "help");
  const summary = await demo(options as Exclude<typeof options, "help">, { print: (line) => void printed.push(line), log: () => {} });
  const text = printed.join("\n");
  assert.ok(summary.ok, text);
  assert.equal(summary.tooManyRequests, 0, text);
  assert.ok(summary.peak <= 50, text);
  assert.match(text, /exactly once {10}yes/);
  assert.throws(() => parseOptions(["--processes", "0"]), /--processes is out of range: "0"/);
});
