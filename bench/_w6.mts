import { stream } from "../dist/index.js";
const a = Array.from({ length: 300_000 }, (_, i) => i);
const identity = async (x: number) => x;
async function inOrder(items: number[], c: number, fn: (x: number) => Promise<number>) {
  const results: number[] = new Array(items.length);
  let next = 0;
  const worker = async () => { while (next < items.length) { const i = next++; results[i] = await fn(items[i]!); } };
  await Promise.all(Array.from({ length: c }, worker));
  return results;
}
const mode = process.argv[2] ?? "ours";
for (let k = 0; k < 15; k++) {
  const t = performance.now();
  if (mode === "ours") await stream(a).map(identity, { concurrency: 8 }).count();
  else if (mode === "ac") await stream(a).map(identity, { concurrency: 8, asCompleted: true }).count();
  else if (mode === "arr") await stream(a).map(identity, { concurrency: 8 }).toArray();
  else await inOrder(a, 8, identity);
  if (k >= 10) console.log(mode, ((performance.now() - t) / a.length * 1e3).toFixed(3), "µs/elt");
}
