// Early exit clears every timer: a process whose streams were left early exits at once,
// with the real clock and hour-long waits pending. The child would hang for an hour otherwise.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";

const script = `
import { stream } from "streamable-ts";
// A source whose fourth pull never answers, like a queue with nothing left in it.
const stuck = async function* () { yield 1; yield 2; yield 3; await new Promise(() => {}); };
for await (const _ of stream([1, 2, 3]).throttle(1, { per: "1h" })) break;
// The odd group comes out full; the even one waits for its deadline, an hour away, when the loop is left.
for await (const _ of stream(stuck()).group({ upTo: 2, within: "1h", by: (x) => x % 2 })) break;
// The group comes out at its deadline while the fourth pull hangs: leaving must not wait for that pull.
for await (const _ of stream(stuck()).group({ upTo: 10, within: "20ms" })) break;
// The buffer's worker hangs on the fourth pull when the loop is left.
for await (const x of stream(stuck()).buffer(5)) if (x === 3) break;
for await (const _ of stream([1, 2, 3]).observe("x", { every: "1h", do: () => {} })) break;
for await (const _ of stream([1, 2, 3]).map((x) => x, { retry: { backoff: { initial: "1h" } } }).buffer(2)) break;
await stream([1, 2, 3]).throttle(1, { per: "1h" }).take(1).run();
// A normal end over an async source: the window's timer goes with the run.
await stream(stuck()).take(3).group({ upTo: 2, within: "1h" }).toArray();
// An iterator dropped after one next(), never closed: its periodic report must not hold the process.
await stream([1, 2, 3]).observe("x", { every: "30s", do: () => {} }).iterateAsync().next();
console.log("done");
`;

test("a process exits at once after leaving throttled, grouped, observed and buffered streams early", async () => {
  const started = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: new URL("..", import.meta.url),
    timeout: 20_000,
  });
  assert.equal(stdout.trim(), "done");
  assert.ok(performance.now() - started < 15_000, "the process did not wait for any timer");
});
