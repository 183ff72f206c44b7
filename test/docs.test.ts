// The README's examples and the TSDoc examples in src/ are type-checked and run;
// what they print (or a line `expression; // → value` evaluates to) must match their `// →` comments.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = `${root}.readme-snippets/`;

interface Example {
  readonly name: string;
  readonly code: string;
}

const readmeExamples: Example[] = [...readFileSync(`${root}README.md`, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((code) => code.includes('from "streamable-ts"'))
  .map((code, i) => ({ name: `README example ${i + 1}`, code }));

/** TSDoc examples: the code of each ```ts block inside a doc comment, with the library in scope. */
function tsdocExamples(file: string): Example[] {
  const text = readFileSync(`${root}src/${file}`, "utf8");
  return [...text.matchAll(/\* ```ts\n([\s\S]*?)\* ```/g)].map((m, i) => {
    const body = m[1]!.replace(/^\s*\* ?/gm, "");
    const wrapped = body.replace(/^(?!console\.log)(.+?);( \/\/ → .*)$/gm, "console.log($1);$2");
    return { name: `${file} example ${i + 1}`, code: `import { stream, isStream, progress, type Stream, retrying, throttling, TimeoutError, memoryStore } from "streamable-ts";\n${wrapped}` };
  });
}

const sources = readdirSync(`${root}src`, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
const examples = [...readmeExamples, ...sources.flatMap(tsdocExamples)];

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const files = examples.map((example, i) => {
  const file = `${dir}example-${i + 1}.ts`;
  writeFileSync(file, `// ${example.name}\n${example.code}\nexport {};\n`);
  return file;
});

test("the README and the TSDoc have examples", () => {
  assert.ok(readmeExamples.length >= 10, `README: ${readmeExamples.length}`);
  assert.ok(examples.length - readmeExamples.length >= 10, `TSDoc: ${examples.length - readmeExamples.length}`);
});

test("every example type-checks", () => {
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} };
  const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, host)!;
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName.startsWith(dir));
  const text = diagnostics.map((d) => {
    const index = Number(/example-(\d+)\.ts$/.exec(d.file!.fileName)![1]) - 1;
    return `${examples[index]!.name}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
  assert.deepEqual(text, []);
});

const compact = (text: string) => text.replace(/\s+/g, "");

for (const [i, file] of files.entries()) {
  test(`${examples[i]!.name} prints what its comments say`, async () => {
    const expected = [...examples[i]!.code.matchAll(/\/\/ → (.*)$/gm)].map((m) => compact(m[1]!));
    const printed: string[] = [];
    const original = console.log;
    console.log = (value: unknown) => void printed.push(compact(JSON.stringify(value)));
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = original;
    }
    assert.deepEqual(printed, expected);
  });
}
