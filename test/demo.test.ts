// The reverse-ETL example, run for real: embedded PostgreSQL, a local HTTP API on its own thread.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startApi, type Api } from "../examples/reverse-etl/api.js";
import { demo, parseOptions } from "../examples/reverse-etl/main.js";
import { pacedPerSecond, peakPerSecond } from "../examples/reverse-etl/summary.js";
import type { Observation } from "streamable-ts";
import { ManualClock } from "./support/clock.js";

test("the job moves every user of a small interval to the API exactly once, with no 429", async () => {
  const printed: string[] = [];
  const options = parseOptions(["--interval", "2025-03-01/2025-03-08", "--rate", "200", "--fail-rate", "0.1"]);
  assert.notEqual(options, "help");
  const summary = await demo(options as Exclude<typeof options, "help">, { print: (line) => void printed.push(line), log: () => {} });
  const text = printed.join("\n");
  assert.match(text, /^The job's plan:\nstream\(/);
  assert.match(text, /users read {12}383 \(the interval holds 383\)/);
  assert.deepEqual(summary.missing, []);
  assert.deepEqual(summary.duplicated, []);
  assert.equal(summary.tooManyRequests, 0);
  assert.ok(summary.ok, text);
  assert.match(text, /exactly once {10}yes/);
});

test("a stopped job aborts its calls in flight, closes the warehouse and the API, and its summary says it failed", async () => {
  const printed: string[] = [];
  // A month: 17 batches, so the calls in flight when it stops (3 at most) cannot be all of them.
  const options = parseOptions(["--interval", "2025-03-01/2025-04-01", "--rate", "200", "--fail-rate", "0"]);
  assert.notEqual(options, "help");
  const stop = new AbortController();
  // Stop as soon as the first batch is integrated: the later batches are in flight or not yet read.
  const log = (o: Observation) => {
    if (o.subject === "integrated user batches" && o.elements >= 1) stop.abort(new Error("interrupted by SIGINT"));
  };
  const summary = await demo(options as Exclude<typeof options, "help">, { print: (line) => void printed.push(line), log, signal: stop.signal });
  const text = printed.join("\n");
  assert.equal(summary.ok, false);
  assert.match(text, /job {19}FAILED: interrupted by SIGINT/);
  const total = Number(/the interval holds (\d+)/.exec(text)![1]);
  assert.ok(total > 1600, text);
  assert.ok(summary.missing.length >= total - 400 && summary.missing.length < total, text);
  assert.deepEqual(summary.duplicated, []);
});

test("the API enforces its bearer token and its rate limit, and fails calls with 503 as asked", async (t) => {
  const clock = new ManualClock();
  const api = await startApi({ rate: 2, failRate: 0, token: "secret", clock });
  t.after(() => api.close());
  const post = (token?: string) =>
    fetch(`${api.url}/users`, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {}, body: JSON.stringify([{ id: 1 }]) });
  assert.equal((await post()).status, 401);
  assert.equal((await post("secret")).status, 201);
  assert.equal((await post("secret")).status, 201);
  const limited = await post("secret");
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  await clock.advance(1000);
  assert.equal((await post("secret")).status, 201);
  assert.deepEqual([...(await api.snapshot()).received], [[1, 3]]);

  const failing = await startApi({ rate: 100, failRate: 0.5, token: "t", random: () => 0.25 });
  t.after(() => failing.close());
  const response = await fetch(`${failing.url}/users`, { method: "POST", headers: { authorization: "Bearer t" }, body: "[]" });
  assert.equal(response.status, 503);
});

test("the demo's options: defaults, --help, and clear errors", () => {
  const defaults = parseOptions([]);
  assert.notEqual(defaults, "help");
  assert.deepEqual(defaults, { interval: { from: new Date("2025-04-01"), to: new Date("2025-07-01") }, rate: 16, concurrency: 3, failRate: 0.05, timeout: 10_000, processes: 1 });
  assert.throws(() => parseOptions(["--timeout", "0"]), /--timeout is out of range: "0"/);
  assert.equal(parseOptions(["--help"]), "help");
  assert.throws(() => parseOptions(["--rate", "0"]), /--rate is out of range: "0"/);
  assert.throws(() => parseOptions(["--interval", "2025-02-01/2025-01-01"]), /--interval must be FROM\/TO/);
  assert.throws(() => parseOptions(["--fail-rate", "1.5"]), /--fail-rate is out of range/);
});

test("request rates: the peak in a sliding second, and the pace of a saturated limiter", () => {
  const times = Array.from({ length: 48 }, (_, k) => Math.floor(k / 16) * 1030 + (k % 16));
  assert.equal(peakPerSecond(times), 16);
  assert.ok(Math.abs(pacedPerSecond(times, 16)! - 16 / 1.03) < 0.01, `paced at ${pacedPerSecond(times, 16)} per second`);
  assert.equal(pacedPerSecond(times.slice(0, 10), 16), undefined);
});

test("the demo's command line: --help, and a clear error with exit code 2 for a bad option", async () => {
  const main = fileURLToPath(new URL("../examples/reverse-etl/main.ts", import.meta.url));
  const run = (...args: string[]) => promisify(execFile)(process.execPath, ["--import", "tsx", main, ...args]);
  const help = await run("--help");
  assert.match(help.stdout, /^Usage: npm run demo -- \[options\]/);
  assert.match(help.stdout, /--interval FROM\/TO/);
  const bad = await run("--concurrency", "zero").catch((e: { code: number; stderr: string }) => e);
  assert.equal((bad as { code: number }).code, 2);
  assert.match((bad as { stderr: string }).stderr, /^--concurrency is out of range: "zero"/);
});

for (const [signal, exitCode] of [["SIGINT", 130], ["SIGTERM", 143]] as const)
test(`npm run demo: ${signal} stops the job, prints the summary and exits with ${exitCode}`, async () => {
  const main = fileURLToPath(new URL("../examples/reverse-etl/main.ts", import.meta.url));
  // A month at 2 calls a second runs for 8 s: the signal comes once the first batch is integrated.
  const child = spawn(process.execPath, ["--import", "tsx", main, "--interval", "2025-03-01/2025-04-01", "--rate", "2", "--fail-rate", "0"]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    // Once: a second Ctrl-C ends the process at once, as a shell user expects.
    if (!child.killed && /observed="integrated user batches"/.test(stderr)) child.kill(signal);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, exitCode, stderr);
  assert.match(stdout, new RegExp(`job {19}FAILED: interrupted by ${signal}`));
  assert.match(stdout, /exactly once {10}NO: \d+ missing, 0 duplicated/);
});

test("the API refuses bad bodies with a short reason and records nothing of a bad batch", async (t) => {
  const api = await startApi({ rate: 1000, failRate: 0, token: "secret", maxBodyBytes: 1000 });
  t.after(() => api.close());
  const post = (body: string, token = "secret") =>
    fetch(`${api.url}/users`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body });
  for (const [body, status, reason] of [
    ["not json", 400, "the body is not JSON"],
    ["", 400, "the body is not JSON"],
    ["{}", 400, "the body must be a JSON array of users"],
    ['[{"id":7},null]', 400, "user 1 has no integer `id`"],
    ['[{"id":"8"}]', 400, "user 0 has no integer `id`"],
    [JSON.stringify(Array.from({ length: 200 }, (_, id) => ({ id }))), 413, "body over 1000 bytes"],
  ] as const) {
    const response = await post(body);
    assert.equal(response.status, status, body.slice(0, 40));
    assert.deepEqual(await response.json(), { error: reason });
  }
  assert.equal((await post("[]", "secreT")).status, 401, "a token that differs in one letter");
  assert.equal((await post("[]", "secret-and-more")).status, 401, "a longer token");
  assert.deepEqual([...(await api.snapshot()).received], [], "nothing of a refused batch was recorded");
  assert.equal((await post('[{"id":7}]')).status, 201);
  assert.deepEqual([...(await api.snapshot()).received], [[7, 1]]);
});

test("the API refuses an oversized upload without reading it whole", async (t) => {
  const api = await startApi({ rate: 1000, failRate: 0, token: "secret", maxBodyBytes: 1024 });
  t.after(() => api.close());
  let sent = 0;
  // 64 MiB offered in chunks, without a Content-Length: the API must answer before taking it all.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 64 * 1024 * 1024) return controller.close();
      sent += 64 * 1024;
      controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
    },
  });
  const response = await fetch(`${api.url}/users`, { method: "POST", headers: { authorization: "Bearer secret" }, body, duplex: "half" } as RequestInit);
  assert.equal(response.status, 413);
  assert.ok(sent < 64 * 1024 * 1024, `the whole upload was read: ${sent} bytes`);
});

test("the API dies mid-run: the job ends by itself, prints its summary and fails", async () => {
  const printed: string[] = [];
  const options = parseOptions(["--interval", "2025-03-01/2025-04-01", "--rate", "200", "--fail-rate", "0"]);
  assert.notEqual(options, "help");
  let api: Api | undefined;
  const log = (o: Observation) => {
    if (o.subject === "integrated user batches" && o.elements === 1) void api?.kill?.();
  };
  const started = performance.now();
  const summary = await demo(options as Exclude<typeof options, "help">, { print: (line) => void printed.push(line), log, onApi: (a) => (api = a) });
  const text = printed.join("\n");
  assert.equal(summary.ok, false, text);
  assert.match(text, /job {19}FAILED: /, text);
  assert.ok(performance.now() - started < 120_000, "it ended within the retries' bound");
});

test("the API hangs mid-run: each call times out and is retried, then the job ends by itself, fails, and says so", async () => {
  const printed: string[] = [];
  // A deadline of 200 ms per call: 6 attempts and their backoff end a stuck batch in about 4 s.
  const options = parseOptions(["--interval", "2025-03-01/2025-04-01", "--rate", "200", "--fail-rate", "0", "--timeout", "200"]);
  assert.notEqual(options, "help");
  let api: Api | undefined;
  const log = (o: Observation) => {
    if (o.subject === "integrated user batches" && o.elements === 1) void api?.hang();
  };
  const started = performance.now();
  const summary = await demo(options as Exclude<typeof options, "help">, { print: (line) => void printed.push(line), log, onApi: (a) => (api = a) });
  const text = printed.join("\n");
  assert.equal(summary.ok, false, text);
  assert.match(text, /job {19}FAILED: .*timed out after 200 ms/, text);
  assert.match(text, /retries {15}([1-9]\d*)/, text);
  assert.deepEqual(summary.duplicated, []);
  assert.ok(performance.now() - started < 60_000, "it ended within the retries' bound");
});

test("npm run demo: Ctrl-C during start-up stops at once, says so and exits with 130", async () => {
  const main = fileURLToPath(new URL("../examples/reverse-etl/main.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", main]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  // The embedded database takes seconds to start: the signal comes as soon as it says it starts.
  let signalled = 0;
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    if (signalled === 0 && /starting the warehouse/.test(stderr)) {
      signalled = performance.now();
      child.kill("SIGINT");
    }
  });
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopped during start-up: interrupted by SIGINT; nothing was read or sent/);
  assert.doesNotMatch(stdout, /The job's plan/, "the job never started");
  assert.ok(performance.now() - signalled < 3000, `it took ${Math.round(performance.now() - signalled)} ms to act`);
});
