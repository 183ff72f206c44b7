// The built package, as users import it: `npm run build` (run by `npm ci` through `prepare`) must work.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = new URL("../dist/index.js", import.meta.url);
const notBuilt = !existsSync(built) && "dist/ not built";

test("the built package exports a working stream()", { skip: notBuilt }, async () => {
  const { stream } = (await import(built.href)) as typeof import("streamable-ts");
  const s = stream([1, 2, 3, 4]).filter((x) => x % 2 === 0).map(String);
  assert.deepEqual([...s], ["2", "4"]);
  assert.deepEqual(await s.toArray(), ["2", "4"]);
  assert.match(s.explain(), /^stream\(Array\(4\)\)/);
});

/** What a plain `node` (no TypeScript loader) prints for `code`, run in the package's folder, where its name resolves to it. */
const nodePrints = (code: string, ...flags: string[]) => execFileSync(process.execPath, [...flags, "-e", code], { cwd: root, encoding: "utf8" }).trim();
const job = 'stream([1, 2, 3, 4]).filter((x) => x % 2 === 0).map(String).toArray().then((out) => console.log(JSON.stringify(out)))';

test("import by name gets the ES modules, require by name the CommonJS ones", { skip: notBuilt }, () => {
  assert.equal(nodePrints(`import { stream } from "streamable-ts"; ${job}`, "--input-type=module"), '["2","4"]');
  assert.equal(nodePrints(`const { stream } = require("streamable-ts"); ${job}`), '["2","4"]');
  assert.equal(nodePrints('console.log(require.resolve("streamable-ts"))'), `${root}dist/cjs/index.js`);
});

test("TypeScript finds the CommonJS declarations for a CommonJS file", { skip: notBuilt }, () => {
  const dir = `${root}.package-check/`; // its own: the docs test empties .readme-snippets/ when it starts
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = `${dir}job.cts`;
  writeFileSync(file, 'import { stream } from "streamable-ts";\nexport const count: Promise<number> = stream([1, 2, 3]).map(String).count();\n');
  // As a Node project compiled to CommonJS has it: @types/node, which also declares `Symbol.dispose`.
  const options: ts.CompilerOptions = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, types: ["node"] };
  const resolved = ts.resolveModuleName("streamable-ts", file, options, ts.sys).resolvedModule;
  assert.equal(resolved?.resolvedFileName, `${root}dist/cjs/index.d.ts`);
  const program = ts.createProgram([file], options);
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  assert.deepEqual(diagnostics, []);
});

test("streamable-ts/workers loads by name as an ES module and as CommonJS, and runs a worker module", { skip: notBuilt }, () => {
  const worker = new URL("./fixtures/work.worker.mjs", import.meta.url).href;
  const run = `workerPool(new URL(${JSON.stringify(worker)})).then((pool) => pool.fn("hashBatch")([1]).then((hash) => (console.log(hash.length), pool.close())))`;
  assert.equal(nodePrints(`import { workerPool } from "streamable-ts/workers"; ${run}`, "--input-type=module"), "64");
  assert.equal(nodePrints(`const { workerPool } = require("streamable-ts/workers"); ${run}`), "64");
});

test("streamable-ts/bullmq loads by name as an ES module and as CommonJS", { skip: notBuilt }, () => {
  const check = `console.log(typeof planShards, typeof startShardWorker, shardJobId("r", "s"))`;
  assert.equal(nodePrints(`import { planShards, startShardWorker, shardJobId } from "streamable-ts/bullmq"; ${check}`, "--input-type=module"), "function function r~s");
  assert.equal(nodePrints(`const { planShards, startShardWorker, shardJobId } = require("streamable-ts/bullmq"); ${check}`), "function function r~s");
});

test("one Stream for both builds: a stream of the CommonJS build is instanceof the ES module's Stream, and isStream says so", { skip: notBuilt }, () => {
  const code = `import { createRequire } from "node:module";
import { Stream, isStream, stream } from "streamable-ts";
const cjs = createRequire(import.meta.url)("streamable-ts");
const other = cjs.stream([1]);
console.log(cjs.Stream !== Stream, other instanceof Stream, stream([1]) instanceof cjs.Stream, isStream(other), cjs.isStream(stream([1])), isStream({}), [] instanceof Stream);`;
  assert.equal(nodePrints(code, "--input-type=module"), "true true true true true false false");
});
