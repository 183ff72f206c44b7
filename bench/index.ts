/**
 * `npm run bench`: streamable-ts against a hand-written loop and its peers, same
 * workloads, same run. Prints throughput, ratios, and each target of the issues.
 */
import { sequential } from "./sequential.js";

console.log(`node ${process.version}, ${process.arch}; budget ${process.env.BENCH_BUDGET_MS ?? 400} ms per size probe`);
await sequential();
