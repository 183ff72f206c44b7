// The reverse-ETL example against a real PostgreSQL server through `pg` and a server-side cursor.
// The test starts a throwaway server with scripts/postgres.sh (CI installs the binaries first).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Observation } from "streamable-ts";
import { demo } from "../examples/reverse-etl/main.js";
import { openWarehouse } from "../examples/reverse-etl/warehouse.js";
import { freePort } from "./support/servers.js";

const script = fileURLToPath(new URL("../scripts/postgres.sh", import.meta.url));
const haveServer = existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").length > 0;
// In CI a missing server is a failure, not a skip: .ci/run installs it.
const skip = !haveServer && !process.env.CI && "no PostgreSQL server binaries here (scripts/postgres.sh install)";
let databaseUrl = "";
/** Its own port and folder: a server left behind by an earlier run cannot get in the way. */
let env: NodeJS.ProcessEnv = {};

before(async () => {
  if (skip) return;
  const port = await freePort();
  env = { ...process.env, PGTEST_PORT: String(port), PGTEST_DIR: `${tmpdir()}/streamable-ts-postgres-${port}` };
  const out = execFileSync("bash", [script, "start"], { encoding: "utf8", env });
  databaseUrl = /DATABASE_URL=(\S+)/.exec(out)![1]!;
});
after(() => {
  if (!skip) execFileSync("bash", [script, "stop"], { env });
});

test("with DATABASE_URL the job reads PostgreSQL through a cursor and moves every user exactly once", { skip }, async () => {
  process.env.DATABASE_URL = databaseUrl;
  try {
    const printed: string[] = [];
    const summary = await demo(
      { interval: { from: new Date("2025-06-01"), to: new Date("2025-06-05") }, rate: 200, concurrency: 3, failRate: 0.1 },
      { print: (line) => void printed.push(line), log: () => {} },
    );
    const text = printed.join("\n");
    assert.ok(summary.ok, text);
    assert.match(text, /users read {12}220 \(the interval holds 220\)/);
    assert.equal(summary.tooManyRequests, 0);
  } finally {
    delete process.env.DATABASE_URL;
  }
});

test("the PostgreSQL warehouse reads a page at a time and closes its cursor on early exit", { skip }, async () => {
  const warehouse = await openWarehouse(databaseUrl);
  try {
    const interval = { from: new Date("2025-01-01"), to: new Date("2026-01-01") };
    let n = 0;
    for await (const row of warehouse.usersUpdatedIn(interval, 50)) if (++n === 120 || row.id < 0) break;
    assert.equal(n, 120);
    // The connection is usable again: the cursor was closed.
    assert.equal((await warehouse.idsUpdatedIn({ from: new Date("2025-01-01"), to: new Date("2025-01-02") })).length, 54);
  } finally {
    await warehouse.close();
  }
});

// Last in this file: it stops the server the tests above share.
test("PostgreSQL stops mid-run: the job ends by itself, says what was delivered, fails, and delivers nothing twice", { skip }, async () => {
  process.env.DATABASE_URL = databaseUrl;
  try {
    const printed: string[] = [];
    let stopping: Promise<unknown> | undefined;
    // A month at 4 calls a second runs for about 4 s: the server stops once the first batch is integrated.
    const log = (o: Observation) => {
      if (o.subject === "integrated user batches" && o.elements >= 1) stopping ??= promisify(execFile)("bash", [script, "stop"], { env });
    };
    const started = performance.now();
    const summary = await demo(
      { interval: { from: new Date("2025-03-01"), to: new Date("2025-04-01") }, rate: 4, concurrency: 3, failRate: 0 },
      { print: (line) => void printed.push(line), log },
    );
    await stopping;
    const text = printed.join("\n");
    assert.equal(summary.ok, false, text);
    assert.match(text, /job {19}FAILED: /, text);
    assert.match(text, /users delivered {7}\d+ distinct at the API, 0 of them more than once/, text);
    assert.deepEqual(summary.duplicated, []);
    assert.ok(performance.now() - started < 60_000, "it ended by itself");
  } finally {
    delete process.env.DATABASE_URL;
  }
});
