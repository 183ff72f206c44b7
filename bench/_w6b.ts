import { stream } from "streamable-ts";
const a = Array.from({ length: 300_000 }, (_, i) => i);
const identity = async (x: number) => x;
(globalThis as any).__waits = 0;
await stream(a).map(identity, { concurrency: 8 }).count();
console.log("waits per element", (globalThis as any).__waits / a.length);
