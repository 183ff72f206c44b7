// The contributor's recipe (README, "Adding an operation"), checked for every operation in the registry:
// what the compiler cannot see is looked for here, so that skipping a step fails a test that names it.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { operators } from "../src/operators/index.js";

const root = new URL("../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const streamSource = read("src/stream.ts");
const index = read("src/index.ts");
const readme = read("README.md");
const differential = read("test/differential.test.ts");

/** The TSDoc and first signature of `op`'s method on `Stream` (the class, before `SyncStream`). */
function methodOf(op: string): { readonly doc: string; readonly signature: string } | undefined {
  const stream = streamSource.slice(0, streamSource.indexOf("export interface SyncStream"));
  const at = new RegExp(`\\n  (?:async )?${op}(?:<[^(]*>)?\\(`).exec(stream);
  if (at === null) return undefined;
  const doc = stream.slice(stream.lastIndexOf("/**", at.index), at.index);
  return { doc, signature: stream.slice(at.index, stream.indexOf("\n", at.index + 1)) };
}

for (const op of Object.keys(operators)) {
  test(`recipe: \`${op}\` has its file, method, docs, options type, tests and differential line`, () => {
    assert.ok(existsSync(new URL(`src/operators/${op}.ts`, root)), `src/operators/${op}.ts holds everything about ${op}`);
    const method = methodOf(op);
    assert.ok(method !== undefined, `Stream has a method ${op}() in src/stream.ts`);
    assert.ok(/@example/.test(method.doc), `the TSDoc of Stream.${op}() has an @example (the docs test runs it)`);
    for (const [, type] of method.signature.matchAll(/\b([A-Z]\w*Options)\b/g)) {
      assert.ok(new RegExp(`\\b${type}\\b`).test(index), `${type}, which ${op}() takes, is exported from src/index.ts`);
    }
    assert.ok(readme.includes(`### \`${op}\``), `the README has a section "### \`${op}\`" under Operations`);
    const testFile = `test/${op}.test.ts`;
    assert.ok(existsSync(new URL(testFile, root)), `${testFile} exists`);
    assert.ok(/\bforEachMode\(/.test(read(testFile)), `${testFile} runs ${op} in every mode through forEachMode`);
    assert.ok(differential.includes(`.${op}(`), `test/differential.test.ts builds random pipelines with .${op}(`);
  });
}

test("recipe: every node that Stream builds is in the registry, and the README tells the recipe", () => {
  const built = new Set([...streamSource.matchAll(/\b(\w+)Node\(/g)].map((m) => m[1]!));
  assert.deepEqual([...built].sort(), Object.keys(operators).sort(), "the nodes src/stream.ts builds are the registry's operations");
  assert.ok(readme.includes("### Adding an operation"), "the README's Development section has the recipe");
});
