/**
 * `npm run bench:instructions`: W3 counted in machine instructions instead of timed. On a shared
 * machine W3's timed ratios move by 0.1x-0.3x from run to run, more than the margin the target
 * leaves; an instruction count moves by about 1%. Each contestant runs alone under valgrind's cachegrind
 * (`node --single-threaded`, so no compiler or collector thread races it) at two sizes, and the
 * difference, divided by the difference in size, is its cost per source element: start-up,
 * compilation and the warm-up cancel out. Instructions are not time (a cache miss costs more
 * than an add), so this complements `npm run bench` and does not replace it.
 *
 * Needs valgrind (Debian: `apt-get install valgrind`); a run takes about three minutes.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { target } from "./harness.js";
import { w3Contestants } from "./w3.js";

const run = promisify(execFile);
const sizes = [200_000, 600_000] as const;

// Child mode: one contestant, one run, as `valgrind ... node bench/instructions.ts --contestant <name> <n>`.
if (process.argv[2] === "--contestant") {
  const [name, n] = process.argv.slice(3);
  const contestant = (await w3Contestants()).find((c) => c.name === name);
  if (contestant === undefined) throw new Error(`no W3 contestant named ${JSON.stringify(name)}`);
  await contestant.run(Number(n));
  process.exit(0);
}

/** The instructions one run of `name` at size `n` executes, as cachegrind counts them. */
async function instructions(name: string, n: number): Promise<number> {
  const args = ["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", "--smc-check=all"];
  args.push(process.execPath, "--single-threaded", "--import", "tsx", fileURLToPath(import.meta.url), "--contestant", name, String(n));
  const { stderr } = await run("valgrind", args, { maxBuffer: 1 << 24 });
  const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr);
  if (refs === null) throw new Error(`cachegrind printed no instruction count for ${name} at ${n}:\n${stderr.slice(-2000)}`);
  return Number(refs[1]!.replaceAll(",", ""));
}

try {
  await run("valgrind", ["--version"]);
} catch {
  console.error("npm run bench:instructions needs valgrind (Debian: apt-get install valgrind)");
  process.exit(1);
}

console.log(`node ${process.version}, ${process.arch}; cachegrind, instructions per source element (runs of ${sizes[1]} minus runs of ${sizes[0]})`);
console.log("\nW3 async generator source, filter(odd).map(String)");
const perElement = new Map<string, number>();
for (const { name } of await w3Contestants()) {
  // The two sizes run side by side: one process each, on a machine with two cores.
  const [small, large] = await Promise.all([instructions(name, sizes[0]), instructions(name, sizes[1])]);
  perElement.set(name, (large - small) / (sizes[1] - sizes[0]));
}
const hand = perElement.get("hand-written for await")!;
const width = Math.max(...[...perElement.keys()].map((name) => name.length));
for (const [name, count] of perElement) {
  console.log(`  ${name.padEnd(width)}  ${count.toFixed(0).padStart(6)} instructions  ${(count / hand).toFixed(2)}x hand-written for await`);
}
for (const name of ["streamable-ts for await", "streamable-ts count()"]) {
  const ratio = perElement.get(name)! / hand;
  target(`W3 ${name} within 1.3x of a hand-written for await, in instructions`, ratio <= 1.3, `${ratio.toFixed(2)}x`);
}
