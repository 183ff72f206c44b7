// streamable-ts/redis against a real Redis server that scripts/redis.sh starts on loopback (CI installs it).
// The store decides on Redis's clock, so these tests take real time: windows of a few hundred ms.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { stream, throttling, ThrottleStoreError, type ThrottleStore } from "streamable-ts";
import { redisStore, type RedisClient } from "streamable-ts/redis";
import { freePort, haveCommand } from "./support/servers.js";

const script = fileURLToPath(new URL("../scripts/redis.sh", import.meta.url));
const haveServer = haveCommand("redis-server");
// In CI a missing server is a failure, not a skip: .ci/run installs it.
const skip = !haveServer && !process.env.CI && "no redis-server here (scripts/redis.sh install)";
let env: NodeJS.ProcessEnv = {};
let url = "";
let port = 0;

before(async () => {
  if (skip) return;
  port = await freePort();
  env = { ...process.env, REDIS_TEST_PORT: String(port) };
  url = /REDIS_URL=(\S+)/.exec(execFileSync("bash", [script, "start"], { encoding: "utf8", env }))![1]!;
});
after(() => {
  if (!skip) execFileSync("bash", [script, "stop"], { env });
});

/** Both clients the store speaks to, each connected afresh; closed by the caller. */
const clients: [string, () => Promise<{ client: RedisClient; close: () => Promise<unknown> }>][] = [
  [
    "ioredis",
    async () => {
      const client = new Redis(url);
      return { client, close: () => client.quit() };
    },
  ],
  [
    "node-redis",
    async () => {
      const client = createClient({ url });
      await client.connect();
      return { client: client as unknown as RedisClient, close: () => client.quit() };
    },
  ],
];

/** The most times of `times` inside any window of `per` (less `slack`: the store decides on Redis's clock, the test reads its own). */
function busiestWindow(times: readonly number[], per: number, slack = 10): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= per - slack) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

for (const [name, connect] of clients) {
  test(`${name}: two processes' stores share one window on one key`, { skip }, async () => {
    const a = await connect();
    const b = await connect();
    try {
      const key = `shared-${name}-${Date.now()}`;
      const starts: number[] = [];
      const wrap = (store: ThrottleStore) => throttling(async () => void starts.push(Date.now()), { upTo: 3, per: 200, from: "start", store, key });
      const [callA, callB] = [wrap(redisStore({ client: a.client })), wrap(redisStore({ client: b.client }))];
      const started = Date.now();
      await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 2 ? callA() : callB())));
      assert.equal(starts.length, 9);
      assert.ok(busiestWindow(starts, 200) <= 3, `${busiestWindow(starts, 200)} starts in one window`);
      assert.ok(Date.now() - started >= 390, "nine calls at three per 200 ms take two windows at least");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

test("from settled: a call's place lasts until per after it settles, across processes", { skip }, async () => {
  const [, connect] = clients[0]!;
  const a = await connect();
  const b = await connect();
  try {
    const key = `settled-${Date.now()}`;
    const slow = throttling(async () => new Promise((resolve) => setTimeout(resolve, 150)), { upTo: 1, per: 100, store: redisStore({ client: a.client }), key });
    const fast = throttling(async () => Date.now(), { upTo: 1, per: 100, store: redisStore({ client: b.client }), key });
    const started = Date.now();
    const slowCall = slow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const fastStart = await fast();
    await slowCall;
    assert.ok(fastStart - started >= 240, `the second call started ${fastStart - started} ms in: not before the first settled (150) plus per (100)`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("a different quota for the same key fails at its first call, naming both; every key has an expiry", { skip }, async () => {
  const { client, close } = await clients[0]![1]();
  try {
    const key = `mismatch-${Date.now()}`;
    const store = redisStore({ client });
    await throttling(async () => {}, { upTo: 16, per: "1s", store, key })();
    await assert.rejects(throttling(async () => {}, { upTo: 8, per: "1s", store, key })(), {
      message: `the quota "${key}" is set as 16 per 1000 ms from settled already; this call asks for 8 per 1000 ms from settled`,
    });
    const redis = client as Redis;
    const keys = await redis.keys("streamable-ts:quota:*");
    assert.ok(keys.length >= 2, `keys: ${keys}`);
    for (const k of keys) assert.ok((await redis.pttl(k)) > 0, `${k} has an expiry`);
  } finally {
    await close();
  }
});

test("a flushed script cache: the store sends the script again", { skip }, async () => {
  const { client, close } = await clients[0]![1]();
  try {
    const store = redisStore({ client });
    const call = throttling(async (x: number) => x, { upTo: 5, per: "1s", store, key: `flush-${Date.now()}` });
    assert.equal(await call(1), 1);
    await (client as Redis).script("FLUSH");
    assert.equal(await call(2), 2);
    assert.deepEqual(await stream([3, 4]).map(call, { concurrency: 2 }).toArray(), [3, 4]);
  } finally {
    await close();
  }
});

test("Redis unreachable: whenUnavailable \"fail\" rejects with a ThrottleStoreError naming the cause", { skip }, async () => {
  const dead = await freePort();
  const client = new Redis({ port: dead, host: "127.0.0.1", lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    const call = throttling(async () => "sent", { upTo: 1, per: "1s", store: redisStore({ client, whenUnavailable: "fail" }), key: "down" });
    await assert.rejects(call(), (e: unknown) => e instanceof ThrottleStoreError && /the Redis quota store could not answer/.test(e.message) && e.cause !== undefined);
  } finally {
    client.disconnect();
  }
});

test("Redis restarted mid-run: every call goes once, none above the quota, and the job ends by itself", { skip }, async () => {
  const client = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  client.on("error", () => {});
  try {
    const starts: number[] = [];
    const call = throttling(async (x: number) => (starts.push(Date.now()), x), { upTo: 4, per: 200, from: "start", store: redisStore({ client }), key: "restart" });
    const run = stream(Array.from({ length: 24 }, (_, i) => i)).map(call, { concurrency: 3 }).toArray();
    await new Promise((resolve) => setTimeout(resolve, 250));
    execFileSync("bash", [script, "stop"], { env });
    await new Promise((resolve) => setTimeout(resolve, 200));
    execFileSync("bash", [script, "start"], { env });
    const out = await run;
    assert.deepEqual(out, Array.from({ length: 24 }, (_, i) => i), "every call once, in order");
    assert.ok(busiestWindow(starts, 200) <= 4, `${busiestWindow(starts, 200)} calls in one window`);
  } finally {
    client.disconnect();
  }
});

test("redisStore: a client that is none is a TypeError at once", () => {
  assert.throws(() => redisStore({ client: {} as never }), /`client` must be a connected ioredis or node-redis client/);
});
