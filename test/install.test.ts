// The README's "Install", tried as a user would: a fresh project outside the repo installs the package from
// a packed tarball and from a git URL, then imports it as an ES module and as CommonJS, and type-checks a
// strict TypeScript file against it with the settings the README names.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const notBuilt = !existsSync(join(root, "dist/index.js")) && "dist/ not built";
const notGit = !existsSync(join(root, ".git")) && "not a git clone";
const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A fresh project in the system's temporary folder, far from this repo's node_modules. */
function freshProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "streamable-ts-install-"));
  folders.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "fresh", version: "1.0.0", private: true, type: "module" }));
  return dir;
}

const npm = (dir: string, ...args: string[]) => execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, encoding: "utf8" });
const node = (dir: string, file: string) => execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8" }).trim();

/** What the README promises once installed: ESM, CommonJS, and a strict type-check with the types' needs. */
function checkInstalled(dir: string): void {
  writeFileSync(join(dir, "job.mjs"), 'import { stream } from "streamable-ts";\nconsole.log(JSON.stringify(await stream([1, 2, 3]).map((x) => x * 2).toArray()));\n');
  assert.equal(node(dir, "job.mjs"), "[2,4,6]", "imported as an ES module");
  writeFileSync(join(dir, "job.cjs"), 'const { stream } = require("streamable-ts");\nstream([1, 2, 3]).count().then((n) => console.log(n));\n');
  assert.equal(node(dir, "job.cjs"), "3", "required as CommonJS");
  // Strict TypeScript with no @types/node: the README's lib setting gives AbortSignal and Symbol.dispose.
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2022", "DOM", "ESNext.Disposable"], types: [], noEmit: true }, files: ["job.ts"] }),
  );
  writeFileSync(
    join(dir, "job.ts"),
    'import { stream, type Stream } from "streamable-ts";\nconst s: Stream<string> = stream([1, 2]).map(async (x, { signal }) => (signal.aborted ? "" : String(x)), { concurrency: 2 });\nexport const n: Promise<number> = s.count();\n',
  );
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir, encoding: "utf8" });
}

test("installed from a packed tarball, it works as an ES module, as CommonJS and under strict TypeScript", { skip: notBuilt, timeout: 120_000 }, () => {
  const packed = mkdtempSync(join(tmpdir(), "streamable-ts-pack-"));
  folders.push(packed);
  npm(root, "pack", "--ignore-scripts", "--pack-destination", packed); // dist/ is built already
  const tarball = readdirSync(packed).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote a tarball");
  const dir = freshProject();
  npm(dir, "install", join(packed, tarball));
  checkInstalled(dir);
});

test("installed from a git URL, it builds itself (prepare) and works the same", { skip: notBuilt || notGit, timeout: 300_000 }, () => {
  const dir = freshProject();
  // The same path as `npm install git+https://...`: npm clones the committed tree, installs its devDependencies and runs `prepare`.
  npm(dir, "install", `git+file://${root}`);
  assert.ok(existsSync(join(dir, "node_modules/streamable-ts/dist/index.js")), "prepare built dist/");
  checkInstalled(dir);
});
