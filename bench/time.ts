/** W7, W9: time-based steps on the real clock. */
import { stream } from "streamable-ts";
import { integers, measure, table, target, type Measured } from "./harness.js";

export async function time(): Promise<void> {
  // W7: 300 elements at 100 per second: windows never over 100, total close to the ideal 2 s.
  const times: number[] = [];
  const start = performance.now();
  await stream(integers(300))
    .throttle(100, { per: "1s" })
    .do(() => void times.push(performance.now()))
    .run();
  const total = performance.now() - start;
  let largest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    largest = Math.max(largest, i - j + 1);
  }
  console.log(`\nW7 300 elements, throttle(100, { per: "1s" }), real clock`);
  console.log(`  total ${total.toFixed(1)} ms (ideal 2000 ms), largest count in any 1 s window: ${largest}`);
  target("W7 no 1 s window holds more than 100", largest <= 100, `${largest}`);
  target("W7 total within 3% of the ideal", Math.abs(total - 2000) <= 60, `${((total / 2000 - 1) * 100).toFixed(2)}%`);

  // W9: grouping by time over ready elements costs little more than grouping by size.
  const w9: Measured[] = [];
  w9.push(await measure({ name: "group(1000)", run: (n) => stream(integers(n)).group(1000).count() }, 100_000, 1_000_000));
  w9.push(await measure({ name: 'group({ upTo: 1000, within: "100ms" })', run: (n) => stream(integers(n)).group({ upTo: 1000, within: "100ms" }).count() }, 100_000, 1_000_000));
  table("W9 grouping ready elements (10^5 in the issue; timed on more, see n)", w9, "group(1000)");
  const ratio = w9[1]!.perSecond / w9[0]!.perSecond;
  target("W9 group within >= 1/3 the throughput of group(1000)", ratio >= 1 / 3, `${ratio.toFixed(2)}x`);
}
