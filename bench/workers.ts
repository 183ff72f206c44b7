/**
 * W10: CPU-bound steps on worker threads (`streamable-ts/workers`) against the main thread, and the pool's cost
 * per task against piscina and a hand-written round trip on `node:worker_threads`.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { stream } from "streamable-ts";
import { workerPool } from "streamable-ts/workers";
import { target } from "./harness.js";
import * as cpu from "./cpu.worker.js";

const moduleUrl = new URL("./cpu.worker.ts", import.meta.url);

/** 400 tasks of 5 to 10 ms of CPU, the same every run. */
const tasks = Array.from({ length: 400 }, (_, i) => 5 + ((i * 7) % 6));

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

/** The task round trip of one thread driven by hand: post, await the answer, post the next. */
async function handRoundTrips(n: number): Promise<number> {
  const worker = new Worker(
    `const { parentPort } = require("node:worker_threads"); parentPort.on("message", (v) => parentPort.postMessage(v));`,
    { eval: true },
  );
  const answer = () => new Promise((resolve) => worker.once("message", resolve));
  await (worker.postMessage(0), answer());
  const ms = await timed(async () => {
    for (let i = 0; i < n; i++) {
      const answered = answer();
      worker.postMessage(i);
      await answered;
    }
  });
  await worker.terminate();
  return ms;
}

export async function workers(): Promise<void> {
  console.log("\nW10 400 tasks of 5-10 ms of CPU, main thread against 2 worker threads");
  const main = await timed(() => stream(tasks).map(cpu.spin).run());
  await using pool = await workerPool<typeof cpu>(moduleUrl, { threads: 2 });
  const spin = pool.fn("spin");
  await stream([1, 1]).map(spin, { concurrency: 2 }).run(); // both threads started
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const threaded = await timed(() => stream(tasks).map(spin, { concurrency: 4 }).run());
  delay.disable();
  const piscina = new Piscina({ filename: moduleUrl.href, maxThreads: 2, minThreads: 2 });
  await Promise.all([piscina.run({ name: "spin", value: 1 }), piscina.run({ name: "spin", value: 1 })]);
  const viaPiscina = await timed(() => stream(tasks).map((ms) => piscina.run({ name: "spin", value: ms }), { concurrency: 4 }).run());
  console.log(`  main thread map                  ${main.toFixed(0).padStart(6)} ms`);
  console.log(`  streamable-ts/workers, 2 threads ${threaded.toFixed(0).padStart(6)} ms  ${(main / threaded).toFixed(2)}x the main thread's throughput`);
  console.log(`  piscina, 2 threads               ${viaPiscina.toFixed(0).padStart(6)} ms  ${(main / viaPiscina).toFixed(2)}x`);
  const p99 = delay.percentile(99) / 1e6;
  target("W10 worker threads >= 1.6x the main thread's throughput", main / threaded >= 1.6, `${(main / threaded).toFixed(2)}x`);
  target("W10 main thread's event-loop delay p99 under 20 ms meanwhile", p99 < 20, `${p99.toFixed(1)} ms`);

  const n = 20_000;
  const identity = pool.fn("identity");
  await stream(tasks).map(identity).run();
  const ours = await timed(() => stream(Array.from({ length: n }, (_, i) => i)).map(identity).run());
  const theirs = await timed(async () => {
    for (let i = 0; i < n; i++) await piscina.run({ name: "identity", value: i });
  });
  const hand = await handRoundTrips(n);
  console.log(`\nW10 one task's round trip to a thread and back, ${n} tasks one at a time`);
  console.log(`  hand-written postMessage loop    ${((hand / n) * 1000).toFixed(1).padStart(6)} µs`);
  console.log(`  streamable-ts/workers map        ${((ours / n) * 1000).toFixed(1).padStart(6)} µs`);
  console.log(`  piscina run                      ${((theirs / n) * 1000).toFixed(1).padStart(6)} µs`);
  await piscina.destroy();
}
