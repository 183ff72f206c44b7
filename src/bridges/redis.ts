/**
 * `streamable-ts/redis`: a {@link ThrottleStore} kept in Redis, so processes
 * share one quota. The user owns the client (ioredis or node-redis) and closes
 * it; this module never opens or closes a connection.
 */
import { createHash } from "node:crypto";
import { systemClock, ThrottleStoreError, type Place, type Quota, type ThrottleStore } from "../index.js";

/**
 * One grant, decided inside Redis with the server's clock (`TIME`), never a
 * process's. KEYS[1]: the places, a sorted set of ids scored by the time each
 * place ends; a call in flight holds a lease (`f:` id) until it is released,
 * then its place ends `per` after the release (`s:` id). KEYS[2]: the quota as
 * set, so two settings for one key are caught. KEYS[3]: a hold after Redis lost
 * its state (a caller that used the key finds it gone), when nothing is granted
 * for `per`. KEYS[4]: the epoch, when Redis started to hold this key: a caller
 * that sees it change puts its calls still in flight back (`restore`), and a
 * release records its place whether or not Redis still held it. Every write
 * sets an expiry.
 *
 * Answers: {1} granted; {0, ms, inFlight} ask again in `ms` (the oldest place
 * ends then, or it is a lease that a release may end sooner); {-1, setting} the
 * key holds another quota.
 */
export const REDIS_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local op, id = ARGV[1], ARGV[2]
local upTo, per, from, lease = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local ttl = math.ceil(math.max(per, lease) + 1000)
if op == 'release' then
  -- Recorded even when the lease is gone (Redis restarted meanwhile): the place lasts per from now.
  redis.call('ZREM', KEYS[1], 'f:' .. id)
  redis.call('ZADD', KEYS[1], now + per, 's:' .. id)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1}
end
if op == 'restore' then
  -- Calls still in flight when Redis lost its state take their places again.
  for i = 8, #ARGV do redis.call('ZADD', KEYS[1], now + lease, 'f:' .. ARGV[i]) end
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1}
end
local epoch = redis.call('GET', KEYS[4])
if not epoch then
  epoch = tostring(now)
  redis.call('SET', KEYS[4], epoch, 'PX', ttl)
else
  redis.call('PEXPIRE', KEYS[4], ttl)
end
local hold = redis.call('PTTL', KEYS[3])
if hold > 0 then return {0, hold, 0, epoch} end
local setting = ARGV[3] .. ' per ' .. ARGV[4] .. ' ms from ' .. from
local stored = redis.call('GET', KEYS[2])
if stored and stored ~= setting then return {-1, stored} end
redis.call('SET', KEYS[2], setting, 'PX', ttl)
if not stored and ARGV[7] == '1' then
  -- The caller used this key before, and Redis holds nothing of it: Redis restarted and lost its grants.
  -- Grant nothing for per, to every process, while the grants it lost may still count at the API.
  redis.call('SET', KEYS[3], '1', 'PX', per)
  return {0, per, 0, epoch}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < upTo then
  if from == 'start' then redis.call('ZADD', KEYS[1], now + per, 's:' .. id)
  else redis.call('ZADD', KEYS[1], now + lease, 'f:' .. id) end
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, 0, 0, epoch}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local inFlight = 0
if string.sub(first[1], 1, 2) == 'f:' then inFlight = 1 end
return {0, math.max(1, math.ceil(tonumber(first[2]) - now)), inFlight, epoch}
`;

/** The Redis clients this store speaks to: ioredis (`evalsha`) or node-redis (`evalSha`). */
export type RedisClient =
  | { evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown>; eval(script: string, numKeys: number, ...args: string[]): Promise<unknown> }
  | {
      evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
      eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
    };

export interface RedisStoreOptions {
  /** The user's client, connected; the store never closes it. */
  readonly client: RedisClient;
  /** Prefix of every key the store writes. @default "streamable-ts:quota:" */
  readonly prefix?: string;
  /**
   * When Redis cannot be reached: `"wait"` (the default) asks again until it
   * answers (the job slows down, never goes over the quota); `"fail"` rejects
   * the call with a {@link ThrottleStoreError}, which `retry` takes as passing.
   * @default "wait"
   */
  readonly whenUnavailable?: "wait" | "fail";
  /**
   * How long a call in flight may hold its place without being released (a
   * process that died mid-call): then the place ends. @default 300_000 (5 min)
   */
  readonly leaseMs?: number;
  /** Ask again at least this often while the oldest place is a call in flight. @default 25 */
  readonly pollMs?: number;
}

const SCRIPT_SHA = createHash("sha1").update(REDIS_SCRIPT).digest("hex");

/**
 * A {@link ThrottleStore} in Redis: an exact sliding window per key, shared by
 * every process that uses the same key, on the Redis server's clock.
 *
 * Example (it needs a Redis server, so it is shown, not run by the docs test):
 * ```text
 * import Redis from "ioredis";
 * import { stream, throttling } from "streamable-ts";
 * import { redisStore } from "streamable-ts/redis";
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const post = throttling(postUsers, { upTo: 16, per: "1s", store: redisStore({ client: redis }), key: "partner-api" });
 * ```
 */
export function redisStore(options: RedisStoreOptions): ThrottleStore {
  const { client } = options;
  if (client === null || typeof client !== "object" || typeof (client as { eval?: unknown }).eval !== "function") {
    throw new TypeError("`client` must be a connected ioredis or node-redis client");
  }
  const prefix = options.prefix ?? "streamable-ts:quota:";
  const whenUnavailable = options.whenUnavailable ?? "wait";
  const leaseMs = options.leaseMs ?? 300_000;
  const pollMs = options.pollMs ?? 25;
  const nodeRedis = typeof (client as { evalSha?: unknown }).evalSha === "function";
  /** When Redis answered again after failing: no place is granted for `per` after it (a restarted Redis may have lost grants). */
  let recoveredAt: number | undefined;
  let failing = false;
  let counter = 0;
  const turns = new Map<string, Promise<unknown>>();
  /** Keys this store was granted on: finding one of them gone from Redis means Redis lost its state. */
  const used = new Set<string>();
  /** Per key, the epoch last seen, and the ids of this process's calls in flight (`"settled"`). */
  const epochs = new Map<string, string>();
  const inFlight = new Map<string, Set<string>>();
  const inFlightOf = (key: string): Set<string> => {
    let ids = inFlight.get(key);
    if (ids === undefined) inFlight.set(key, (ids = new Set()));
    return ids;
  };
  /** A new epoch means Redis lost what it held: this process's calls in flight take their places again. */
  const noticeEpoch = async (key: string, keys: string[], epoch: string, quota: Quota): Promise<void> => {
    const known = epochs.get(key);
    epochs.set(key, epoch);
    const ids = inFlight.get(key);
    if (known === undefined || known === epoch || ids === undefined || ids.size === 0) return;
    await ask(keys, ["restore", "", String(quota.upTo), String(quota.per), quota.from, String(leaseMs), "1", ...ids], quota.per, undefined).catch(() => {});
  };

  const run = async (keys: string[], args: string[]): Promise<unknown[]> => {
    const digest = SCRIPT_SHA;
    try {
      return (await (nodeRedis
        ? (client as { evalSha: Function }).evalSha(digest, { keys, arguments: args })
        : (client as { evalsha: Function }).evalsha(digest, keys.length, ...keys, ...args))) as unknown[];
    } catch (error) {
      // A flushed script cache or a restarted server: send the script itself, which loads it again.
      if (!/NOSCRIPT/i.test(String((error as Error)?.message))) throw error;
      return (await (nodeRedis
        ? (client as { eval: Function }).eval(REDIS_SCRIPT, { keys, arguments: args })
        : (client as { eval: Function }).eval(REDIS_SCRIPT, keys.length, ...keys, ...args))) as unknown[];
    }
  };

  /** One script call; an unreachable Redis waits (or fails) as the options say. */
  const ask = async (keys: string[], args: string[], per: number, signal: AbortSignal | undefined): Promise<unknown[]> => {
    for (let wait = 50; ; wait = Math.min(wait * 2, 1_000)) {
      signal?.throwIfAborted();
      try {
        const answer = await run(keys, args);
        if (failing) {
          failing = false;
          recoveredAt = Date.now();
        }
        if (recoveredAt !== undefined && Date.now() - recoveredAt < per && args[0] === "acquire") {
          await systemClock.sleep(per - (Date.now() - recoveredAt), signal);
          continue;
        }
        return answer;
      } catch (error) {
        if (error instanceof Error && error.name === "AbortError") throw error;
        if (signal?.aborted) throw signal.reason;
        failing = true;
        if (whenUnavailable === "fail") throw new ThrottleStoreError(`the Redis quota store could not answer: ${(error as Error)?.message ?? error}`, { cause: error });
        await systemClock.sleep(wait, signal);
      }
    }
  };

  const take = async (key: string, quota: Quota, signal: AbortSignal | undefined): Promise<Place> => {
    const keys = [`${prefix}${key}`, `${prefix}${key}:quota`, `${prefix}${key}:hold`, `${prefix}${key}:epoch`];
    const id = `${process.pid}:${++counter}:${Math.random().toString(36).slice(2, 10)}`;
    const args = ["acquire", id, String(quota.upTo), String(quota.per), quota.from, String(leaseMs), used.has(key) ? "1" : "0"];
    for (;;) {
      const answer = await ask(keys, args, quota.per, signal);
      const verdict = Number(answer[0]);
      if (verdict !== -1) await noticeEpoch(key, keys, String(answer[3]), quota);
      if (verdict === 1) {
        used.add(key);
        break;
      }
      if (verdict === -1) {
        throw new Error(`the quota "${key}" is set as ${String(answer[1])} already; this call asks for ${quota.upTo} per ${quota.per} ms from ${quota.from}`);
      }
      const retryIn = Number(answer[1]);
      await systemClock.sleep(Number(answer[2]) === 1 ? Math.min(retryIn, pollMs) : retryIn, signal);
    }
    if (quota.from === "start") return { release() {} };
    let released = false;
    const flying = inFlightOf(key);
    flying.add(id);
    return {
      release: async () => {
        if (released) return;
        released = true;
        flying.delete(id);
        await ask(keys, ["release", id, String(quota.upTo), String(quota.per), quota.from, String(leaseMs), "1"], quota.per, undefined).catch(() => {
          // An unreachable Redis: the lease ends the place instead.
        });
      },
    };
  };

  return {
    acquire(key, quota, signal) {
      // Waiting is in order within this process: one caller per key asks Redis at a time.
      const turn = (turns.get(key) ?? Promise.resolve()).then(() => take(key, quota, signal));
      turns.set(key, turn.catch(() => {}));
      return turn;
    },
  };
}
