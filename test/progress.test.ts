// The live progress display: lines redrawn in place on a terminal (a fake one here, and a real
// pseudo-terminal through `script`), observe's usual log lines elsewhere.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { progress, progressLine, stream, type Observation } from "streamable-ts";
import { ManualClock } from "./support/clock.js";
import { haveCommand } from "./support/servers.js";

const observation = (subject: string, elements: number, elapsed: number, errors = 0): Observation => ({ subject, elements, elapsed, errors });

test("progress: a line shows the count, errors and rate; with a total, a bar, the share and the time left", () => {
  assert.equal(progressLine(observation("users", 12_345, 10_000), undefined), "users  12,345  0 errors  1,235/s");
  assert.equal(
    progressLine(observation("users", 5_000, 2_000, 1), 20_000, 8),
    "users     5,000 / 20,000 [#####---------------]  25.0%  1 error  2,500/s  6s left",
  );
  assert.equal(progressLine(observation("batches", 200, 60_000), 200), "batches  200 / 200 [####################] 100.0%  0 errors  3/s");
  assert.match(progressLine(observation("rows", 1, 1_000), 10_000), /2h 46m left$/);
  assert.match(progressLine(observation("rows", 0, 0), 10), /0\/s$/, "no rate yet, no time left");
});

test("progress: on a terminal it redraws one line per subject in place, at most every `refresh`, and the last state on close", async () => {
  const clock = new ManualClock();
  const writes: string[] = [];
  const display = progress({ output: { isTTY: true, columns: 200, write: (t) => writes.push(t) }, totals: { users: 4 }, refresh: 100, clock });
  assert.ok(display.live, "a terminal makes it live");
  assert.deepEqual(Object.keys(display.options), ["every", "do"]);
  await stream([1, 2, 3, 4]).observe("users", display.options).group(2).observe("user batches", display.options).count({ clock });
  assert.equal(writes.length, 0, "nothing drawn before the first refresh");
  await clock.advance(100);
  assert.equal(writes.length, 1, "one redraw for all the reports of that period");
  assert.match(writes[0]!, /^\x1b\[2Kusers {9}4 \/ 4 \[#{20}\] 100\.0%  0 errors  0\/s\n\x1b\[2Kuser batches  2  0 errors  0\/s\n$/);
  display.close();
  assert.equal(writes.length, 2, "close draws the last state");
  assert.ok(writes[1]!.startsWith("\x1b[2A"), "over the two lines drawn before");
  display.close();
  assert.equal(writes.length, 2, "closing twice draws once");
  assert.equal(clock.pendingTimers, 0, "no timer left");
});

test("progress: elsewhere it is off, and observe logs its usual lines", async () => {
  const writes: string[] = [];
  const display = progress({ output: { write: (t) => writes.push(t) } });
  assert.equal(display.live, false);
  assert.deepEqual(display.options, {});
  display.close();
  assert.deepEqual(writes, []);
  assert.throws(() => progress({ totals: { users: -1 } }), /`totals\["users"\]` must be an integer >= 0, got -1/);
  assert.throws(() => progress({ refresh: 0 }), /`refresh` must be a positive duration/);
});

const skip = !haveCommand("script") && !process.env.CI && "no `script` command (util-linux) for a pseudo-terminal";
test("progress: under a real pseudo-terminal the demo's lines are drawn in place", { skip, timeout: 60_000 }, () => {
  const fixture = fileURLToPath(new URL("./fixtures/progress.ts", import.meta.url));
  // `script` runs the command on a new pseudo-terminal: stderr is a TTY there.
  const out = execFileSync("script", ["-qec", `${process.execPath} --import tsx ${fixture}`, "/dev/null"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
  });
  assert.match(out, /tty: true/, "the fixture ran on a terminal");
  assert.match(out, /\x1b\[2Krows +300 \/ 300 \[#{20}\] 100\.0%/, "the last state, drawn in place");
  assert.match(out, /\x1b\[\dA/, "lines redrawn over the earlier ones");
  assert.doesNotMatch(out, /observed=/, "no log lines on a terminal");
});
