/**
 * The sharded job (`npm run demo -- --workers 4`) against the API's quota: the
 * whole seeded year (20 shards of 1,000 users, 200 batches) over 4 worker
 * processes sharing 16 requests/s through Redis, with the real PostgreSQL and
 * Redis the project's scripts start. Prints the pace against the quota, the
 * busiest second, and the CPU time per user in the planner and in the workers.
 * Run alone (`npm run bench -- sharded`): it needs the servers' binaries.
 */
import { demo } from "../examples/reverse-etl/main.js";
import { target } from "./harness.js";

export async function sharded(): Promise<void> {
  console.log("\nSharded job: 4 worker processes, 20 shards of 1,000 users, one quota of 16 requests/s in Redis");
  const runs = 3;
  const paces: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const summary = await demo(
      { interval: { from: new Date("2025-01-01"), to: new Date("2026-01-01") }, rate: 16, concurrency: 3, failRate: 0.05, timeout: 10_000, workers: 4, shardSize: 1000 },
      { print: () => {} },
    );
    if (!summary.ok) throw new Error(`run ${run} failed: ${summary.text}`);
    paces.push(summary.paced ?? 0);
    console.log(
      `  run ${run}: ${(summary.paced ?? 0).toFixed(2)} requests/s (${(((summary.paced ?? 0) / 16) * 100).toFixed(1)}% of the quota), busiest second ${summary.peak}, ` +
        `CPU per user ${summary.cpuPerUser!.planner.toFixed(1)} µs in the planner, ${summary.cpuPerUser!.workers.toFixed(1)} µs in the workers`,
    );
  }
  const worst = Math.min(...paces);
  target("the sharded job uses at least 95% of the API's quota with 4 workers", worst >= 0.95 * 16, `worst of ${runs} runs ${((worst / 16) * 100).toFixed(1)}%`);
}
