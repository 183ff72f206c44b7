// `npm run example` keeps working: the quick-start job runs, prints its plan, and fails at the end as designed.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

test("examples/quick-start.ts runs and reports what it did", async () => {
  const file = fileURLToPath(new URL("../examples/quick-start.ts", import.meta.url));
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", file]);
  assert.match(stdout, /^stream\(Array\(250\)\)\n {2}\.map\(validate\)/);
  assert.match(stdout, /the job failed at the end, as it should: row 42 has no email/);
  assert.match(stdout, /posted 4 batches holding 249 users/);
  assert.match(stderr, /INFO observed="user batches" elapsed=\S+ errors=1 elements=4\n/);
});
