// streamable-ts/bullmq against a real Redis that scripts/redis.sh starts on loopback (CI installs it):
// planning, cursors, resumption, the graceful stop, a lost lock, bad data, and the schedule's catch-up.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { stream } from "streamable-ts";
import {
  contiguousWatermark,
  planShards,
  runSchedule,
  scheduleWatermark,
  ScheduleBusy,
  ShardFailed,
  shardJobId,
  shardsCompleted,
  startShardWorker,
  RedisUnreachable,
  LockLost,
  type Shard,
  type ShardWorker,
} from "streamable-ts/bullmq";
import { ManualClock } from "./support/clock.js";
import { Deferred } from "./support/deferred.js";
import { freePort, haveCommand } from "./support/servers.js";

const script = fileURLToPath(new URL("../scripts/redis.sh", import.meta.url));
// In CI a missing server is a failure, not a skip: .ci/run installs it.
const skip = !haveCommand("redis-server") && !process.env.CI && "no redis-server here (scripts/redis.sh install)";
let env: NodeJS.ProcessEnv = {};
let url = "";
let redis: Redis;

before(async () => {
  if (skip) return;
  env = { ...process.env, REDIS_TEST_PORT: String(await freePort()) };
  url = /REDIS_URL=(\S+)/.exec(execFileSync("bash", [script, "start"], { encoding: "utf8", env }))![1]!;
  redis = new Redis(url, { maxRetriesPerRequest: null });
});
after(async () => {
  if (skip) return;
  await redis.quit();
  execFileSync("bash", [script, "stop"], { env });
});

let queues = 0;
/** A fresh queue per test, closed at its end. */
async function withQueue(fn: (queue: Queue, name: string) => Promise<void>): Promise<void> {
  const name = `q${++queues}`;
  const queue = new Queue(name, { connection: redis });
  try {
    await fn(queue, name);
  } finally {
    await queue.close();
  }
}

interface Range {
  readonly from: number;
  readonly to: number;
}
const ranges = (n: number, size: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, data: { from: i * size + 1, to: (i + 1) * size } }));
/** The ids of a range after a cursor: what a keyset query would read. */
function* idsAfter(range: Range, cursor: number | undefined): Generator<number> {
  for (let id = (cursor ?? range.from - 1) + 1; id <= range.to; id++) yield id;
}

test("planning is idempotent: the same run twice adds nothing, and ids are checked", { skip }, () =>
  withQueue(async (queue) => {
    const first = await planShards(queue, "run-1", ranges(3, 10));
    assert.deepEqual(first, { jobIds: ["run-1~s0", "run-1~s1", "run-1~s2"], added: 3 });
    const again = await planShards(queue, "run-1", ranges(3, 10));
    assert.equal(again.added, 0, "a second plan of the same run adds no job");
    assert.equal(await queue.count(), 3, "the queue holds three jobs");
    assert.throws(() => shardJobId("2025-01-01T00:00", "s"), /`run` must be a non-empty string of letters, digits and "._-", got "2025-01-01T00:00"/);
    await assert.rejects(planShards(queue, "r", [{ id: "a", data: 1 }, { id: "a", data: 2 }]), /distinct ids/);
    await assert.rejects(planShards(queue, "r", [], { attempts: 0 }), /`attempts` must be an integer >= 1, got 0/);
  }),
);

test("a worker runs each shard's stream, commits its cursor in order, and the shards complete", { skip }, () =>
  withQueue(async (queue, name) => {
    const { jobIds } = await planShards(queue, "r", ranges(4, 25));
    const seen: number[] = [];
    const worker = await startShardWorker<Range, number>(name, {
      connection: url,
      concurrency: 2,
      work: (shard) =>
        stream(shard.rows(idsAfter(shard.data, shard.cursor)))
          .group(10)
          .map(async (batch) => (seen.push(...batch), batch), { concurrency: 3 })
          .do((batch) => shard.commit(batch.at(-1)!)),
    });
    try {
      await shardsCompleted(queue, jobIds, { every: 20 });
    } finally {
      await worker.stop();
    }
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1), "every id once");
    for (const [i, id] of jobIds.entries()) {
      assert.deepEqual((await queue.getJob(id))!.progress, { cursor: (i + 1) * 25 }, `shard ${i} committed its last id`);
    }
  }),
);

test("a shard that fails is tried again at its cursor: nothing delivered is sent again", { skip }, () =>
  withQueue(async (queue, name) => {
    const { jobIds } = await planShards(queue, "r", ranges(1, 50), { attempts: 3, backoff: 0 });
    const sent: number[] = [];
    const attempts: [number, number | undefined][] = [];
    const worker = await startShardWorker<Range, number>(name, {
      connection: url,
      work: (shard) => {
        attempts.push([shard.attempt, shard.cursor]);
        // Errors resume (catch), so the commits go through a watermark: it stops at a batch that failed.
        const delivery = shard.watermark((batch: number[]) => batch.at(-1)!);
        return stream(shard.rows(idsAfter(shard.data, shard.cursor)))
          .group(10)
          .do(delivery.sent)
          .do((batch) => {
            if (shard.attempt === 1 && batch[0] === 21) throw new Error("the API said 500");
            sent.push(...batch);
          })
          .do(delivery.delivered)
          .catch(Error, { finallyThrow: true });
      },
    });
    try {
      await shardsCompleted(queue, jobIds, { every: 20 });
    } finally {
      await worker.stop();
    }
    // The first attempt went on past the failure (catch), sent 31..50, and then failed the shard at its end.
    assert.deepEqual(attempts, [[1, undefined], [2, 20]], "the second attempt starts after the last batch before the failure");
    const once = Array.from({ length: 20 }, (_, i) => i + 1);
    const after = Array.from({ length: 30 }, (_, i) => i + 21);
    assert.deepEqual(sent, [...once, ...after.slice(10), ...after], "rows up to the cursor went once; the rest again, none lost");
  }),
);

test("a shard that fails every attempt fails for good, and shardsCompleted says which and why", { skip }, () =>
  withQueue(async (queue, name) => {
    const { jobIds } = await planShards(queue, "r", ranges(1, 5), { attempts: 2, backoff: 0 });
    const worker = await startShardWorker<Range, number>(name, { connection: url, work: async () => Promise.reject(new Error("the API is gone")) });
    try {
      await assert.rejects(shardsCompleted(queue, jobIds, { every: 20 }), (error: unknown) => {
        assert.ok(error instanceof ShardFailed, "a ShardFailed");
        assert.equal(error.message, "shard r~s0 failed: the API is gone");
        return true;
      });
    } finally {
      await worker.stop();
    }
  }),
);

test("a shard whose data does not match its schema fails with a clear message; the worker goes on", { skip }, () =>
  withQueue(async (queue, name) => {
    const bad = await planShards(queue, "r", [{ id: "bad", data: { from: "one" } }]);
    const good = await planShards(queue, "r", ranges(1, 3));
    let ran = 0;
    const worker = await startShardWorker<Range, number>(name, {
      connection: url,
      parse: (data) => {
        const { from, to } = data as Range;
        if (!Number.isInteger(from) || !Number.isInteger(to)) throw new TypeError(`from and to must be integers, got ${JSON.stringify(data)}`);
        return { from, to };
      },
      work: async () => void ran++,
    });
    try {
      await assert.rejects(shardsCompleted(queue, bad.jobIds, { every: 20 }), {
        message: 'shard r~bad failed: its data does not match its schema: from and to must be integers, got {"from":"one"}',
      });
      await shardsCompleted(queue, good.jobIds, { every: 20 });
    } finally {
      await worker.stop();
    }
    assert.equal(ran, 1, "only the good shard ran");
    assert.equal((await queue.getJob(bad.jobIds[0]!))!.attemptsMade, 1, "bad data is not tried again");
  }),
);

test("stop(): the shard pulls no more, its calls in flight settle and commit, and it goes back to the queue at once", { skip }, () =>
  withQueue(async (queue, name) => {
    const { jobIds } = await planShards(queue, "r", ranges(1, 1000));
    const sent: number[] = [];
    const calls: { batch: number[]; done: Deferred<void> }[] = [];
    let stopping = false;
    const started = new Deferred<Shard<Range, number>>();
    const work = (shard: Shard<Range, number>) => {
      started.resolve(shard);
      return stream(shard.rows(idsAfter(shard.data, shard.cursor)))
        .group(10)
        .map(
          async (batch) => {
            const call = { batch, done: new Deferred<void>() };
            calls.push(call);
            if (stopping) call.done.resolve(); // a batch the pool had pulled before the stop: it goes too
            await call.done.promise;
            sent.push(...batch);
            return batch;
          },
          { concurrency: 3 },
        )
        .do((batch) => shard.commit(batch.at(-1)!));
    };
    const first = await startShardWorker<Range, number>(name, { connection: url, work });
    const shard = await started.promise;
    while (calls.length < 3) await new Promise((r) => setTimeout(r, 5));
    const stopped = first.stop();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls.length, 3, "no call starts while the calls in flight hold their places");
    assert.ok(shard.stopping.aborted && !shard.signal.aborted, "the stop asks to pull no more, and aborts no call");
    stopping = true;
    for (const call of calls) call.done.resolve();
    await stopped;
    assert.ok(calls.length <= 4, `at most the one batch pulled ahead joins them, got ${calls.length} calls`);
    assert.equal(await queue.getJobState(jobIds[0]!), "waiting", "the shard is back in the queue");
    const job = (await queue.getJob(jobIds[0]!))!;
    assert.deepEqual(job.progress, { cursor: calls.length * 10 }, "the batches in flight were committed");
    assert.equal(job.attemptsMade, 0, "a stop spends no attempt");
    // Another worker takes it at once and resumes at its cursor.
    const takenAt = performance.now();
    const resumed = new Deferred<number | undefined>();
    const second = await startShardWorker<Range, number>(name, {
      connection: url,
      work: (shard) => {
        resumed.resolve(shard.cursor);
        return stream(shard.rows(idsAfter(shard.data, shard.cursor)))
          .group(10)
          .do((batch) => void sent.push(...batch))
          .do((batch) => shard.commit(batch.at(-1)!));
      },
    });
    try {
      assert.equal(await resumed.promise, calls.length * 10);
      assert.ok(performance.now() - takenAt < 1000, "picked up within a second");
      await shardsCompleted(queue, jobIds, { every: 20 });
    } finally {
      await second.stop();
    }
    assert.deepEqual(sent, Array.from({ length: 1000 }, (_, i) => i + 1), "every row once, in order");
  }),
);

test("a stop that outlives stopTimeout aborts the calls in flight, and the shard still goes back", { skip }, () =>
  withQueue(async (queue, name) => {
    const { jobIds } = await planShards(queue, "r", ranges(1, 100));
    const started = new Deferred<void>();
    let aborted: unknown;
    const worker = await startShardWorker<Range, number>(name, {
      connection: url,
      stopTimeout: 50,
      work: (shard) =>
        stream([1]).map((_, { signal }) => {
          started.resolve();
          return new Promise((_r, reject) => signal.addEventListener("abort", () => reject((aborted = signal.reason))));
        }),
    });
    await started.promise;
    await worker.stop();
    assert.match(String((aborted as Error)?.message), /stopTimeout \(50 ms\)/);
    assert.equal(await queue.getJobState(jobIds[0]!), "waiting");
  }),
);

test("a lost lock aborts the shard's calls with LockLost, and its commits are refused", { skip }, () =>
  withQueue(async (queue, name) => {
    await planShards(queue, "r", ranges(1, 10));
    const seen = new Deferred<{ shard: Shard<Range, number>; reason: unknown }>();
    const errors: Error[] = [];
    const worker = await startShardWorker<Range, number>(name, {
      connection: url,
      lockDuration: 400,
      onError: (e) => void errors.push(e),
      work: (shard) =>
        stream([1]).map(
          (_, { signal }) =>
            new Promise((_r, reject) =>
              signal.addEventListener("abort", () => {
                seen.resolve({ shard, reason: signal.reason });
                reject(signal.reason);
              }),
            ),
        ),
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      await redis.del(`bull:${name}:r~s0:lock`); // as if the lock expired while Redis was away
      const { shard, reason } = await seen.promise;
      assert.ok(reason instanceof LockLost, "the calls see a LockLost");
      await assert.rejects(shard.commit(3), LockLost);
      assert.ok(errors.some((e) => /could not renew lock/.test(e.message)), "the worker reports it");
    } finally {
      await worker.stop();
    }
  }),
);

test("an unreachable Redis fails the start with its URL, password hidden", { skip }, async () => {
  const port = await freePort();
  await assert.rejects(startShardWorker("q", { connection: `redis://user:s3cret@127.0.0.1:${port}`, work: async () => {} }), (error: unknown) => {
    assert.ok(error instanceof RedisUnreachable, "a RedisUnreachable");
    assert.match(error.message, new RegExp(`^cannot reach Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
});

test("the watermark commits the longest delivered prefix, whatever order deliveries come in", async () => {
  const commits: number[] = [];
  const marks = contiguousWatermark((batch: number[]) => batch.at(-1)!, async (cursor: number) => void commits.push(cursor));
  const batches = [[1, 2], [3, 4], [5, 6], [7, 8]];
  for (const b of batches) marks.sent(b);
  await marks.delivered(batches[1]!);
  assert.deepEqual(commits, [], "nothing before the first is delivered");
  await marks.delivered(batches[2]!);
  await marks.delivered(batches[0]!);
  assert.deepEqual(commits, [6], "the first three together");
  await marks.delivered(batches[3]!);
  assert.deepEqual(commits, [6, 8]);
  await assert.rejects(marks.delivered(batches[3]!), /delivered that was not sent, or twice/);
  assert.throws(() => (marks.sent(batches[0]!), marks.sent(batches[0]!)), /sent twice/);
});

test("the schedule runs due intervals in order, each once, and catches up the missed ones after a restart", { skip }, async () => {
  const clock = new ManualClock();
  const minute = 60_000;
  const ran: number[] = [];
  const runOnce = async (now: number) => {
    await clock.advance(now - clock.now());
    const stop = new AbortController();
    const done = runSchedule({
      connection: redis,
      name: "catch-up",
      every: "1m",
      since: new Date(0),
      clock,
      signal: stop.signal,
      runInterval: async ({ from, to }) => {
        assert.equal(to.getTime() - from.getTime(), minute);
        ran.push(from.getTime() / minute);
      },
    });
    // Runs what is due, then waits for the next interval's end.
    while (clock.pendingTimers === 0) await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    await done;
  };
  await runOnce(1.5 * minute);
  assert.deepEqual(ran, [0], "the first interval ran once its end had passed");
  await runOnce(4.5 * minute); // stopped for three intervals
  assert.deepEqual(ran, [0, 1, 2, 3], "the three missed intervals ran in order, each once");
  await runOnce(4.7 * minute);
  assert.deepEqual(ran, [0, 1, 2, 3], "a restart runs nothing twice");
  assert.equal((await scheduleWatermark(redis, "catch-up"))?.getTime(), 4 * minute);
});

test("a second scheduler on the same schedule is refused while the first runs", { skip }, async () => {
  const stop = new AbortController();
  const clock = new ManualClock();
  const first = runSchedule({ connection: redis, name: "busy", every: "1h", since: new Date(0), clock, signal: stop.signal, runInterval: async () => {} });
  while (clock.pendingTimers === 0) await new Promise((r) => setTimeout(r, 5));
  await assert.rejects(runSchedule({ connection: redis, name: "busy", every: "1h", since: new Date(0), clock, runInterval: async () => {} }), ScheduleBusy);
  stop.abort();
  await first;
  assert.equal(await redis.exists("streamable-ts:schedule:busy:lock"), 0, "the lock is released at the end");
  await assert.rejects(runSchedule({ connection: redis, name: "busy", every: 0, since: new Date(0), runInterval: async () => {} }), /`every` must be a positive duration/);
});

test("a shard worker's bad options are refused at start, naming the option", { skip }, async () => {
  await assert.rejects(startShardWorker("q", { connection: url, concurrency: 0, work: async () => {} }), /`concurrency` must be an integer >= 1, got 0/);
  await assert.rejects(startShardWorker("q", { connection: url, work: 3 as never }), /`work` must be a function, got number/);
  const worker: ShardWorker = await startShardWorker("q-empty", { connection: url, work: async () => {} });
  await worker[Symbol.asyncDispose]();
});

test("an interval that fails is tried again after retryAfter, and the watermark waits for it", { skip }, async () => {
  const clock = new ManualClock();
  const stop = new AbortController();
  const lines: string[] = [];
  let calls = 0;
  const done = runSchedule({
    connection: redis,
    name: "retry",
    every: "1m",
    since: new Date(0),
    retryAfter: "10s",
    clock,
    signal: stop.signal,
    log: (line) => void lines.push(line),
    runInterval: async () => {
      if (++calls === 1) throw new Error("a shard failed for good");
    },
  });
  await clock.advance(60_000); // the first interval is due
  while (calls === 0 || clock.pendingTimers === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(await scheduleWatermark(redis, "retry"), undefined, "the watermark stays before the failed interval");
  await clock.advance(10_000);
  while (calls < 2 || clock.pendingTimers === 0) await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  await done;
  assert.equal((await scheduleWatermark(redis, "retry"))?.getTime(), 60_000, "then it moves past it");
  assert.match(lines.join("\n"), /interval 1970-01-01T00:00:00.000Z\/1970-01-01T00:01:00.000Z: failed \(a shard failed for good\); tried again in 10000 ms/);
});

test("the watermark's window: an item is sent once fewer than `window` before it await their commit; a failure lets everything go", async () => {
  const stored: Deferred<void>[] = [];
  const marks = contiguousWatermark((n: { id: number }) => n.id, () => {
    const commit = new Deferred<void>();
    stored.push(commit);
    return commit.promise;
  }, { window: 2 });
  const items = [1, 2, 3, 4, 5].map((id) => ({ id }));
  assert.equal(marks.sent(items[0]!), undefined, "the first goes at once");
  assert.equal(marks.sent(items[1]!), undefined, "the second too");
  const third = marks.sent(items[2]!);
  assert.ok(third instanceof Promise, "the third waits");
  let thirdSent = false;
  void third.then(() => (thirdSent = true));
  const delivered = marks.delivered(items[0]!);
  await new Promise((r) => setImmediate(r));
  assert.equal(thirdSent, false, "delivered is not enough: its commit must be stored");
  stored[0]!.resolve();
  await delivered;
  await new Promise((r) => setImmediate(r));
  assert.equal(thirdSent, true, "once the first commit is stored, the third goes");
  const fourth = marks.sent(items[3]!);
  assert.ok(fourth instanceof Promise, "the fourth waits for the second's commit");
  marks.failed();
  await fourth;
  assert.equal(marks.sent(items[4]!), undefined, "after a failure nothing waits");
  assert.throws(() => contiguousWatermark(() => 0, async () => {}, { window: 0 }), /`window` must be an integer >= 1 or Infinity, got 0/);
});
