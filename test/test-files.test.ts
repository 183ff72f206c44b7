/**
 * The test files themselves. A failing `assert.ok(value)` with no message makes Node
 * read the failing expression back from the file to show it; in a `.ts` file run
 * through tsx it parses TypeScript as JavaScript from a column of the compiled code,
 * over and over (one failing test here spun at full CPU for minutes instead of failing).
 * So every `assert(...)` and `assert.ok(...)` in the tests says what went wrong itself.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import ts from "typescript";

const testDir = new URL("./", import.meta.url);
const testFiles = readdirSync(testDir, { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".ts"));

/** `assert(x)` and `assert.ok(x)` calls in `code` that pass no message, as `file:line`. */
function assertsWithoutMessage(file: string, code: string): string[] {
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length < 2) {
      const callee = node.expression.getText(source);
      if (callee === "assert" || callee === "assert.ok") {
        found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test("every assert.ok in the tests has a message", () => {
  assert.ok(testFiles.length > 20, `found only ${testFiles.length} test files`);
  const missing = testFiles.flatMap((file) => assertsWithoutMessage(file, readFileSync(new URL(file, testDir), "utf8")));
  assert.deepEqual(missing, [], `give these a message:\n${missing.join("\n")}`);
});

test("the check finds a call with no message", () => {
  assert.deepEqual(assertsWithoutMessage("x.ts", 'assert.ok(a);\nassert(b, "b");\nassert(c);\nassert.equal(d, 1);'), ["x.ts:1", "x.ts:3"]);
});
