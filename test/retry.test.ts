import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { retrying, stream, TimeoutError } from "streamable-ts";
import { ManualClock, runOnClock, settle, SkippingClock } from "./support/clock.js";
import { drainAsync, err, forEachMode } from "./support/modes.js";

class HttpError extends Error {
  constructor(readonly response: { status: number; headers: Headers | Record<string, string> }) {
    super(`HTTP ${response.status}`);
  }
}

/** A call failing `failures` times (recording when it was called), then returning "ok". */
function flaky(clock: ManualClock, failures: number, error: (n: number) => unknown = (n) => new Error(`failure ${n}`)) {
  const calls: number[] = [];
  const fn = () => {
    calls.push(clock.now());
    if (calls.length <= failures) throw error(calls.length);
    return "ok";
  };
  return { fn, calls };
}

test("retry: without jitter the waits follow the policy exactly, capped at `max`", async () => {
  const clock = new ManualClock();
  const { fn, calls } = flaky(clock, 3);
  const call = retrying(fn, { attempts: 4, backoff: { initial: 100, factor: 2, max: 250, jitter: false }, clock });
  assert.equal(await runOnClock(clock, call()), "ok");
  assert.deepEqual(calls, [0, 100, 300, 550]);
});

test("retry: with full jitter each wait stays between 0 and the backoff", async () => {
  const clock = new ManualClock();
  const waits: number[] = [];
  const { fn } = flaky(clock, 7);
  const call = retrying(fn, { attempts: 8, backoff: { initial: 100, factor: 3, max: 5000 }, onRetry: (_e, _a, wait) => void waits.push(wait), clock });
  assert.equal(await runOnClock(clock, call()), "ok");
  const bounds = [100, 300, 900, 2700, 5000, 5000, 5000];
  assert.equal(waits.length, 7);
  waits.forEach((wait, i) => assert.ok(wait >= 0 && wait <= bounds[i]!, `wait ${i}: ${wait} not in [0, ${bounds[i]}]`));
});

test("retry: `where` false means no retry; it sees the error and the attempt number", async () => {
  const clock = new ManualClock();
  const seen: [string, number][] = [];
  const { fn, calls } = flaky(clock, 5);
  const call = retrying(fn, { attempts: 5, where: (e, attempt) => (seen.push([(e as Error).message, attempt]), attempt < 2), clock });
  await assert.rejects(runOnClock(clock, call()), /failure 2/);
  assert.equal(calls.length, 2);
  assert.deepEqual(seen, [["failure 1", 1], ["failure 2", 2]]);
});

test("retry: an error's `retryAfter` and `Retry-After` header win over the backoff", async () => {
  const date = new Date(Date.now() + 60_000).toUTCString();
  const hints: [unknown, (ms: number) => boolean][] = [
    [Object.assign(new Error("slow down"), { retryAfter: 5000 }), (ms) => ms === 5000],
    [new HttpError({ status: 429, headers: new Headers({ "Retry-After": "7" }) }), (ms) => ms === 7000],
    [new HttpError({ status: 503, headers: { "retry-after": "2" } }), (ms) => ms === 2000],
    [new HttpError({ status: 503, headers: new Headers({ "retry-after": date }) }), (ms) => ms > 55_000 && ms <= 60_000],
  ];
  for (const [error, expected] of hints) {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, 1, () => error);
    assert.equal(await runOnClock(clock, retrying(fn, { backoff: { initial: 1 }, clock })()), "ok");
    assert.ok(expected(calls[1]!), `waited ${calls[1]} ms for ${String(error)}`);
  }
});

test("retry: when attempts run out, the last error comes out, the earlier ones as its cause", async () => {
  const clock = new ManualClock();
  const { fn } = flaky(clock, 9);
  const error = await runOnClock(clock, retrying(fn, { attempts: 3, clock })().catch((e: unknown) => e));
  assert.ok(error instanceof Error, "an Error comes out");
  assert.equal(error.message, "failure 3");
  assert.ok(error.cause instanceof AggregateError, "its cause gathers the earlier errors");
  assert.equal(error.cause.message, "2 earlier attempts failed");
  assert.deepEqual(error.cause.errors.map((e: Error) => e.message), ["failure 1", "failure 2"]);
});

test("retry: an abort during a wait rejects at once and leaves no timer", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const { fn } = flaky(clock, 9);
  const pending = retrying(fn, { backoff: { initial: "1h" }, clock, signal: controller.signal })();
  await settle();
  assert.equal(clock.pendingTimers, 1);
  controller.abort(new Error("job cancelled"));
  await assert.rejects(pending, /job cancelled/);
  assert.equal(clock.pendingTimers, 0);
});

forEachMode("map with retry: one result per element, in order, retries inside the element's slot", async (mode) => {
  if (mode.iteration === "sync") return; // async-only, tested below
  const clock = new ManualClock();
  const attempts = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const call = mode.fn(async (x: number) => {
    const n = (attempts.get(x) ?? 0) + 1;
    attempts.set(x, n);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      await clock.sleep(10 * (5 - x));
      if (x % 2 === 0 && n < 3) throw new Error(`transient ${x}`);
      if (x === 3) throw new Error("permanent");
      return x * 10;
    } finally {
      inFlight--;
    }
  });
  const s = stream(mode.source([0, 1, 2, 3, 4]).iterable).map(call, { concurrency: 2, retry: { attempts: 3, backoff: { initial: 100, jitter: false } } });
  const out = await runOnClock(clock, drainAsync(s.iterateAsync({ clock, afterError: "resume" })));
  assert.deepEqual(out, [0, 10, 20, err("permanent"), 40]);
  assert.deepEqual([...attempts.entries()].sort(), [[0, 3], [1, 1], [2, 3], [3, 3], [4, 3]]);
  assert.ok(maxInFlight <= 2, `max in flight ${maxInFlight}`);
});

test("map with retry: a call past its deadline (the README's AbortSignal.any recipe) is retried, the iteration goes on", async () => {
  const clock = new ManualClock();
  // Stands for AbortSignal.timeout: aborted by hand with the same reason, a DOMException named TimeoutError.
  const deadlines: AbortController[] = [];
  const iterationSignals: AbortSignal[] = [];
  const hangsOnce = (id: number, signal: AbortSignal) =>
    new Promise<number>((resolve, reject) => {
      if (deadlines.length > 1) return resolve(id * 10);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  const s = stream([1]).map(
    (id, { signal }) => {
      iterationSignals.push(signal);
      const deadline = new AbortController();
      deadlines.push(deadline);
      return hangsOnce(id, AbortSignal.any([signal, deadline.signal]));
    },
    { retry: { attempts: 2, backoff: { initial: 100, jitter: false } } },
  );
  const out = runOnClock(clock, s.toArray({ clock }));
  await settle();
  assert.equal(deadlines.length, 1, "the first attempt hangs");
  deadlines[0]!.abort(new DOMException("The operation timed out.", "TimeoutError"));
  assert.deepEqual(await out, [10]);
  assert.equal(deadlines.length, 2, "one retry after the deadline");
  assert.ok(iterationSignals.every((signal) => !signal.aborted), "the iteration's own signal was not aborted");
});

test("map with retry runs only in async iteration; explain shows the policy; bad policies throw at build time", () => {
  const s = stream([1]).map((x) => x, { retry: 5 });
  assert.throws(() => [...(s as unknown as Iterable<number>)], /map\(.*\) with retry runs only in async iteration/);
  assert.equal(
    stream([1]).map(String, { concurrency: 3, retry: true }).explain().split("\n")[1],
    "  .map(String, { concurrency: 3, retry: { attempts: 3, backoff: { initial: 100, factor: 2, max: 10000, jitter: true } } })",
  );
  assert.throws(() => stream([1]).map(String, { retry: { attempts: 0 } }), { name: "RangeError", message: "`attempts` must be an integer >= 1, got 0" });
  assert.throws(() => stream([1]).map(String, { retry: { backoff: { factor: 0.5 } } }), { message: "`factor` must be a number >= 1, got 0.5" });
  assert.throws(() => stream([1]).do(String, { retry: { backoff: { jitter: "full" as never } } }), { message: '`jitter` must be a boolean, got "full"' });
  assert.throws(() => stream([1]).map(String, { retry: { tries: 3 } as never }), /unknown option `tries` in `retry` options/);
  assert.throws(() => retrying(String, { backoff: { initial: "fast" as never } }), /`initial` must be a positive duration/);
});

test("map with retry against a real local HTTP server: 503 with Retry-After twice, then success", async (t) => {
  const calls = new Map<number, number>();
  const server: Server = createServer((req, res) => {
    const id = Number(new URL(req.url!, "http://x").searchParams.get("id"));
    const n = (calls.get(id) ?? 0) + 1;
    calls.set(id, n);
    if (n <= 2) {
      res.writeHead(503, { "Retry-After": "2" }).end("busy");
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ id, square: id * id }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const get = async (id: number, { signal }: { signal: AbortSignal }) => {
    const response = await fetch(`http://127.0.0.1:${port}/square?id=${id}`, { signal });
    if (!response.ok) throw new HttpError(response);
    return (await response.json()) as { id: number; square: number };
  };
  const clock = new ManualClock();
  const waits: number[] = [];
  const results = stream([1, 2, 3, 4, 5, 6])
    .map(get, { concurrency: 3, retry: { attempts: 3, onRetry: (_e, _a, wait) => void waits.push(wait) } })
    .toArray({ clock });
  const out = await runOnClock(clock, results, { idleRounds: 10_000 });
  assert.deepEqual(out.map((r) => r.id), [1, 2, 3, 4, 5, 6], "one result per element, in order");
  assert.deepEqual(out.map((r) => r.square), [1, 4, 9, 16, 25, 36]);
  assert.deepEqual([...calls.values()], [3, 3, 3, 3, 3, 3]);
  assert.ok(waits.length === 12 && waits.every((w) => w === 2000), "each wait honours Retry-After: 2");
});

test("map with timeout: a call past its deadline has its signal aborted and rejects with a TimeoutError; retry tries it again", async () => {
  const clock = new ManualClock();
  const signals: AbortSignal[] = [];
  let calls = 0;
  // The first attempt never answers and ignores its signal; the second answers at once.
  const call = (id: number, { signal }: { signal: AbortSignal }) => (signals.push(signal), ++calls === 1 ? new Promise<number>(() => {}) : Promise.resolve(id * 10));
  const s = stream([1]).map(call, { timeout: "20ms", retry: { attempts: 2, backoff: { initial: 100, jitter: false } } });
  const out = runOnClock(clock, s.toArray({ clock }));
  assert.deepEqual(await out, [10]);
  assert.equal(calls, 2);
  assert.ok(signals[0]!.aborted, "the late call's signal was aborted");
  assert.ok(signals[0]!.reason instanceof TimeoutError, "aborted with the TimeoutError");
  assert.equal((signals[0]!.reason as Error).name, "TimeoutError");
  assert.equal(signals[1]!.aborted, false, "the call that answered in time was not aborted");
  assert.equal(clock.pendingTimers, 0, "the deadline of a call that settled went with it");
});

test("map and do with timeout: the TimeoutError comes out in place of its element, naming the call; sync callbacks need no timer", async () => {
  const clock = new ManualClock();
  const hang = (_: number) => new Promise<number>(() => {});
  const s = stream([1, 2, 3]).map((x) => (x === 2 ? hang(x) : x), { timeout: 50, concurrency: 2 }).do((x) => void x, { timeout: "1s" });
  const out = await runOnClock(clock, drainAsync(s.iterateAsync({ clock, afterError: "resume" })));
  assert.equal(out.length, 3);
  assert.equal(out[0], 1);
  assert.match((out[1] as { error: string }).error, /^\(?x\)? ?=>.* timed out after 50 ms$/, "the error names the call");
  assert.equal(out[2], 3);
  assert.equal(clock.pendingTimers, 0);
  assert.throws(() => [...(stream([1]).map((x) => x, { timeout: "1s" }) as unknown as Iterable<number>)], /with a timeout runs only in async iteration/);
  assert.equal(stream([1]).map(String, { timeout: "30s" }).explain(), 'stream(Array(1))\n  .map(String, { timeout: "30s" })');
  assert.throws(() => stream([1]).map(String, { timeout: 0 }), { name: "RangeError", message: /^`timeout` must be a positive duration/ });
  assert.throws(() => stream([1]).do(String, { timeout: "1000h" }), /`timeout` must be at most 2147483647 ms/);
});

test("map with retry at concurrency 16: one abort listener on the run's signal, whatever the waits; no warning", async () => {
  const clock = new ManualClock();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  let runSignal: AbortSignal | undefined;
  const failedOnce = new Set<number>();
  const call = async (x: number, { signal }: { signal: AbortSignal }) => {
    runSignal = signal;
    if (!failedOnce.has(x)) {
      failedOnce.add(x);
      throw new Error("503");
    }
    return x;
  };
  const s = stream(Array.from({ length: 32 }, (_, i) => i)).map(call, { concurrency: 16, retry: { attempts: 2, backoff: { initial: 1000, jitter: false } }, timeout: "5s" });
  const run = s.count({ clock });
  await settle();
  assert.ok(clock.pendingTimers >= 16, `16 retry waits pending, got ${clock.pendingTimers}`);
  assert.ok(getEventListeners(runSignal!, "abort").length <= 1, `${getEventListeners(runSignal!, "abort").length} abort listeners on the run's signal`);
  assert.equal(await runOnClock(clock, run), 32);
  await new Promise((resolve) => setImmediate(resolve));
  process.off("warning", onWarning);
  assert.deepEqual(warnings.map((w) => w.name), []);
});

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// A soak of 20 s: \`npm test\` runs it, \`npm run test:quick\` skips it.
const soak = { skip: process.env.TEST_QUICK === "1" && "a soak: npm test runs it" };

test("map with timeout, soak: 100,000 calls that never answer all time out, and the heap stays flat", soak, async () => {
  const clock = new SkippingClock();
  const never = () => new Promise<number>(() => {});
  let timeouts = 0;
  const rows = (n: number) => Array.from({ length: n }, (_, i) => i);
  const small = rows(10_000);
  const large = rows(100_000);
  const run = (source: number[]) =>
    stream(source)
      .map(never, { concurrency: 1000, timeout: "20ms" })
      .catch(TimeoutError, { do: () => void timeouts++ })
      .run({ clock });
  await run(small); // warm up
  gc();
  const before = process.memoryUsage().heapUsed;
  await run(large);
  gc();
  const after = process.memoryUsage().heapUsed;
  assert.equal(timeouts, 110_000, "every deadline fired");
  assert.ok(after - before < 8 * 1024 * 1024, `the heap grew by ${((after - before) / 1024 / 1024).toFixed(1)} MB`);
});
