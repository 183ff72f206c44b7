/**
 * `npm run bench`: streamable-ts against a hand-written loop and its peers, same
 * workloads, same run. Prints throughput, ratios, and each target of the issues.
 * `npm run bench -- concurrency` runs one group (sequential, concurrency, time, quota, workers).
 * `npm run bench -- sharded` runs the sharded job on PostgreSQL and Redis (not part of the default run: it
 * needs the servers' binaries and takes a minute).
 */
import { concurrency } from "./concurrency.js";
import { sequential } from "./sequential.js";
import { time } from "./time.js";
import { quota } from "./quota.js";
import { workers } from "./workers.js";
import { sharded } from "./sharded.js";
import { forgetIntegers, rounds } from "./harness.js";

const groups: Record<string, () => Promise<void>> = { sequential, concurrency, time, quota, workers, sharded };
/** Groups that run only when named. */
const onRequest = new Set(["sharded"]);
const chosen = process.argv.slice(2);
console.log(`node ${process.version}, ${process.arch}; ${rounds} interleaved rounds per workload (BENCH_ROUNDS), medians reported`);
for (const [name, run] of Object.entries(groups)) {
  if (chosen.length > 0 ? !chosen.includes(name) : onRequest.has(name)) continue;
  forgetIntegers();
  global.gc?.();
  await run();
}
