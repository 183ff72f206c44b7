// streamable-ts/workers on real worker threads: same results as the main thread, errors in place, stops that
// finish or terminate, bad input named, threads gone at the end.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import fc from "fast-check";
import { stream } from "streamable-ts";
import { workerPool } from "streamable-ts/workers";
import * as work from "./fixtures/work.worker.js";

type Work = typeof work;
const moduleUrl = new URL("./fixtures/work.worker.ts", import.meta.url);

/** Every element and error (as `{ error: "Class: message" }`) of `s`, going on after errors. */
async function outcomes<T>(s: AsyncIterable<T>): Promise<(T | { error: string })[]> {
  const out: (T | { error: string })[] = [];
  const it = stream(s).iterateAsync({ afterError: "resume" });
  for (;;) {
    try {
      const r = await it.next();
      if (r.done) return out;
      out.push(r.value);
    } catch (e) {
      out.push({ error: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
}

test("workers: a worker map gives the main thread's results, in order, and as a multiset asCompleted, errors in place", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 2 });
  const hashBatch = pool.fn("hashBatch");
  const batches = fc.sample(fc.array(fc.integer({ min: -2, max: 1_000 }), { maxLength: 12 }), { numRuns: 10_000, seed: 19 });
  const onMain = await outcomes(stream(batches).map(work.hashBatch));
  assert.ok(onMain.some((x) => typeof x === "object"), "some batches fail, to see errors in place");
  assert.deepEqual(await outcomes(stream(batches).map(hashBatch, { concurrency: 4 })), onMain);
  const key = (x: unknown) => JSON.stringify(x);
  const asCompleted = await outcomes(stream(batches).map(hashBatch, { concurrency: 4, asCompleted: true }));
  assert.deepEqual(asCompleted.map(key).sort(), onMain.map(key).sort());
});

test("workers: an error thrown on a thread keeps its message, class name and stack; built-in classes stay themselves", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 1 });
  const error = await pool.fn("hashBatch")([1, -1]).then(
    () => assert.fail("a negative number fails"),
    (e: unknown) => e as Error,
  );
  assert.equal(error.name, "BatchError");
  assert.equal(error.message, "negative number in batch 1,-1");
  assert.match(error.stack ?? "", /work\.worker\.ts/, "the stack is the thread's, into the worker module");
  const caught: unknown[] = [];
  const evens = await stream([1, 2, 3, 4])
    .map(pool.fn("evenOnly"))
    .catch(TypeError, { do: (e) => void caught.push(e) })
    .toArray();
  assert.deepEqual(evens, [2, 4]);
  assert.ok(caught.every((e) => e instanceof TypeError), "a TypeError on a thread is one here: catch(TypeError) takes it");
});

test("workers: explain names the export and its module", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 1 });
  const plan = stream([[1, 2]]).map(pool.fn("hashBatch"), { concurrency: 2 }).explain();
  assert.equal(plan, "stream(Array(1))\n  .map(hashBatch@work.worker.ts, { concurrency: 2 })");
});

test("workers: bad input is a clear error, at build time where it is known then", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 1 });
  // @ts-expect-error not an export of the module
  assert.throws(() => pool.fn("hashbatch"), /work\.worker\.ts has no function exported as "hashbatch"; its exported functions: .*"hashBatch"/);
  // @ts-expect-error `version` is not a function
  assert.throws(() => pool.fn("version"), /has no function exported as "version"/);
  await assert.rejects(workerPool(new URL("./fixtures/missing.worker.ts", import.meta.url)), (e: unknown) => {
    assert.ok(e instanceof TypeError, "a missing module is a TypeError");
    assert.match(e.message, /the worker module file:.*missing\.worker\.ts could not be loaded/);
    return true;
  });
  await assert.rejects(workerPool("./relative.js"), /`module` must be a URL of the worker module/);
  await assert.rejects(workerPool(moduleUrl, { threads: 0 }), /`threads` must be an integer >= 1, got 0/);
  await assert.rejects(workerPool(moduleUrl, { onStop: "kill" as never }), /`onStop` must be "finish" or "terminate"/);
  await assert.rejects(workerPool(moduleUrl, { idle: 1 } as never), /`workerPool` has no option `idle`/);
  const byteLength = pool.fn("byteLength") as (value: unknown) => Promise<number>;
  await assert.rejects(byteLength(() => 1), (e: unknown) => {
    assert.ok(e instanceof TypeError, "an argument that cannot cross is a TypeError");
    assert.match(e.message, /the argument of byteLength@work\.worker\.ts cannot be sent to a worker thread/);
    return true;
  });
  assert.equal(await byteLength(new Uint8Array(3)), 3, "the thread goes on after a refused argument");
});

test("workers: transferred buffers move to the thread instead of being copied", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 1 });
  const byteLength = pool.fn("byteLength", { transfer: (bytes) => [bytes.buffer as ArrayBuffer] });
  const bytes = new Uint8Array(1024);
  assert.equal(await byteLength(bytes), 1024);
  assert.equal(bytes.byteLength, 0, "the buffer is detached here: it moved");
});

test("workers: onStop finish, take(5) of 1,000 tasks: at most `threads` tasks finish after the stop, queued ones are dropped", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 2, onStop: "finish" });
  const spin = pool.fn("spin");
  let finishedAfterStop = 0;
  let calls = 0;
  const out = await stream(Array.from({ length: 1_000 }, () => 5))
    .map(
      async (ms, options) => {
        calls++;
        const r = await spin(ms, options);
        if (options.signal.aborted) finishedAfterStop++; // finished, its result dropped
        return r;
      },
      { concurrency: 8 },
    )
    .take(5)
    .toArray();
  assert.equal(out.length, 5);
  assert.ok(finishedAfterStop <= 2, `${finishedAfterStop} tasks finished after the stop: at most the 2 running then`);
  assert.ok(calls < 40, `${calls} calls made, of 1,000: the stop ended the stream`);
  await pool.close();
  assert.equal(pool.threadsStarted, 0, "no thread left after close");
});

test("workers: onStop terminate, a task in an endless loop is gone within 100 ms of the stop", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 1, onStop: "terminate" });
  const controller = new AbortController();
  const forever = pool.fn("forever");
  const running = stream([undefined]).map(forever).run({ signal: controller.signal });
  await new Promise<void>((resolve) => setImmediate(resolve)); // the task is posted to its thread
  const stoppedAt = performance.now();
  controller.abort(new Error("stop"));
  await assert.rejects(running, /stop/);
  const answered = performance.now() - stoppedAt;
  assert.ok(answered < 100, `the run was answered ${answered.toFixed(1)} ms after the stop`);
  while (pool.threadsStarted > 0) await new Promise<void>((resolve) => setImmediate(resolve));
  const gone = performance.now() - stoppedAt;
  // Under c8 (npm test) a thread writes its coverage as it exits, which takes longer than the task's end.
  const bound = process.env.NODE_V8_COVERAGE === undefined ? 100 : 1_000;
  assert.ok(gone < bound, `the thread was gone ${gone.toFixed(1)} ms after the stop (bound ${bound} ms)`);
  assert.equal(await pool.fn("spin")(1), 1, "the pool starts a new thread for the next task");
});

test("workers: calls after close reject; close settles once every thread has exited", async () => {
  const pool = await workerPool<Work>(moduleUrl, { threads: 2 });
  assert.equal(await pool.fn("spin")(1), 1);
  await pool.close();
  assert.equal(pool.threadsStarted, 0);
  await assert.rejects(pool.fn("spin")(1), /the worker pool of work\.worker\.ts is closed/);
});

test("workers: idle threads do not hold the process; a TypeScript worker loads from the built package under tsx, a JavaScript one under plain node", async () => {
  const run = promisify(execFile);
  const dist = new URL("../dist/bridges/workers.js", import.meta.url).href;
  const script = (worker: string) => `
    const { workerPool } = await import(${JSON.stringify(dist)});
    const pool = await workerPool(new URL(${JSON.stringify(worker)}));
    console.log(await pool.fn("hashBatch")([1, 2, 3]));
  `; // no close(): an idle thread must not keep the process alive
  const ts = new URL("./fixtures/work.worker.ts", import.meta.url).href;
  const js = new URL("./fixtures/work.worker.mjs", import.meta.url).href;
  const expected = work.hashBatch([1, 2, 3]);
  const underTsx = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script(ts)], { timeout: 20_000 });
  assert.equal(underTsx.stdout.trim(), expected);
  const plain = await run(process.execPath, ["--input-type=module", "-e", script(js)], { timeout: 20_000 });
  assert.equal(plain.stdout.trim(), expected);
  assert.ok(fileURLToPath(js).endsWith(".mjs"), "the plain-node worker is JavaScript");
});

test("workers: a thread that dies fails its task and is replaced; close rejects running and queued calls; idle threads exit", async () => {
  await using pool = await workerPool<Work>(moduleUrl, { threads: 1 });
  await assert.rejects(pool.fn("crash")(3), /the worker thread running crash@work\.worker\.ts exited with code 3/);
  assert.equal(await pool.fn("spin")(1), 1, "a new thread takes the next task");
  const running = assert.rejects(pool.fn("forever")(undefined), /exited with code 1/);
  const queued = assert.rejects(pool.fn("spin")(1), /the worker pool of work\.worker\.ts is closed/);
  await new Promise<void>((resolve) => setImmediate(resolve));
  await pool.close();
  await Promise.all([running, queued]);
  await using quick = await workerPool<Work>(moduleUrl, { threads: 1, idleTimeout: 0 });
  assert.equal(await quick.fn("spin")(1), 1);
  while (quick.threadsStarted > 0) await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(quick.threadsStarted, 0, "an idle thread exits after idleTimeout");
});
