/**
 * Quota: what a grant costs. The in-process `throttling` against a bare call (a quota never reached),
 * and the Redis store's grants on loopback (a server that scripts/redis.sh starts, when redis-server is here).
 */
import { localRedis } from "../examples/reverse-etl/processes.js";
import { Redis } from "ioredis";
import { throttling } from "streamable-ts";
import { redisStore } from "streamable-ts/redis";
import { target } from "./harness.js";

async function callsPerSecond(call: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < 1_000; i++) await call(); // warm up
  const start = performance.now();
  for (let i = 0; i < n; i++) await call();
  return (n / (performance.now() - start)) * 1000;
}

export async function quota(): Promise<void> {
  console.log("\nQuota: the cost of a grant");
  const bare = async (x: number) => x;
  const rateBare = await callsPerSecond(() => bare(1), 200_000);
  const paced = throttling(bare, { upTo: 1e9, per: "1s" });
  const ratePaced = await callsPerSecond(() => paced(1), 200_000);
  console.log(`  bare async call                     ${(rateBare / 1e6).toFixed(2)} M/s`);
  console.log(`  throttling, in process (settled)    ${(ratePaced / 1e6).toFixed(2)} M/s  ${((1e6 / ratePaced - 1e6 / rateBare)).toFixed(2)} µs per call over a bare one`);

  let redis: Awaited<ReturnType<typeof localRedis>>;
  try {
    redis = await localRedis({ fromEnvironment: false });
  } catch {
    return console.log("  info no redis-server here: the Redis store's row is skipped (scripts/redis.sh install)");
  }
  const client = new Redis(redis.url);
  try {
    for (const from of ["start", "settled"] as const) {
      const call = throttling(bare, { upTo: 1e9, per: "1s", from, store: redisStore({ client }), key: `bench-${from}` });
      for (let i = 0; i < 500; i++) await call(1);
      const latencies: number[] = [];
      const start = performance.now();
      for (let i = 0; i < 5_000; i++) {
        const t = performance.now();
        await call(1);
        latencies.push(performance.now() - t);
      }
      const perSecond = (5_000 / (performance.now() - start)) * 1000;
      latencies.sort((a, b) => a - b);
      const p50 = latencies[latencies.length >> 1]!;
      const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
      console.log(`  Redis store, from ${from.padEnd(8)}        ${perSecond.toFixed(0)} grants/s, p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms (one process, one call at a time)`);
      if (from === "start") {
        target("Quota: Redis grant p50 at most 0.2 ms on loopback", p50 <= 0.2, `${p50.toFixed(3)} ms`);
        target("Quota: at least 5,000 grants/s from one process", perSecond >= 5_000, `${perSecond.toFixed(0)}/s`);
      }
    }
  } finally {
    await client.quit();
    redis.stop();
  }
}
