import { isPromise } from "../internal/promise.js";
import { Resume, type Plan } from "../plan.js";
import type { IterateOptions } from "./iterate.js";
import { AsyncRun } from "./iterate-async.js";

/**
 * Iterates `plan` asynchronously to its end, handing each element to `onElement`.
 * A run of synchronous stages is looped over without a promise per element. The
 * first error ends the loop and rejects; any early end closes every stage once.
 */
export async function forEachElement(
  plan: Plan,
  options: IterateOptions | undefined,
  onElement: (value: unknown) => unknown,
): Promise<void> {
  const run = new AsyncRun(plan, options);
  let finished = false;
  try {
    for (;;) {
      let pulled = run.nextOrResume();
      while (pulled instanceof Resume) pulled = pulled.resume(await pulled.pending);
      if (isPromise(pulled)) pulled = await pulled;
      if (pulled.done) {
        finished = true;
        return;
      }
      const out = onElement(pulled.value);
      if (out !== undefined && isPromise(out)) await out;
    }
  } finally {
    if (!finished) await run.return();
  }
}
