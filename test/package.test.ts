// The built package, as users import it: `npm run build` (run by `npm ci` through `prepare`) must work.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";

const built = new URL("../dist/index.js", import.meta.url);

test("the built package exports a working stream()", { skip: !existsSync(built) && "dist/ not built" }, async () => {
  const { stream } = (await import(built.href)) as typeof import("streamable-ts");
  const s = stream([1, 2, 3, 4]).filter((x) => x % 2 === 0).map(String);
  assert.deepEqual([...s], ["2", "4"]);
  assert.deepEqual(await s.toArray(), ["2", "4"]);
  assert.match(s.explain(), /^stream\(\[1, 2, 3, 4\]\)/);
});
