import { ConcurrentStage } from "../internal/pool.js";
import { isPromise } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { func } from "../internal/validate.js";
import type { CallOptions, Operator, Step } from "../plan.js";
import { StepsAsync, StepsSync } from "../run/steps.js";
import { ThrottleAsync } from "./throttle.js";
import { concurrencyAsyncOnly, concurrencyOptions, explainConcurrency, withRetry, type Concurrency } from "./map.js";

export interface DoNode extends Concurrency {
  readonly op: "do";
  readonly effect: (value: unknown, options: CallOptions) => unknown;
}

export function doNode(effect: unknown, opts: unknown): DoNode {
  const fn = func<DoNode["effect"]>("effect", effect);
  return Object.freeze({ op: "do", effect: fn, ...concurrencyOptions("do", opts) });
}

/** `do` is `map` that hands back its input once the effect has run (and settled). */
export const doOperator: Operator<DoNode> = {
  explain: (n) => `do(${nameOf(n.effect)}${explainConcurrency(n)})`,
  asyncOnly: (n) => concurrencyAsyncOnly(`do(${nameOf(n.effect)})`, n.effect, n),
  step: (n, mode, context) =>
    mode === "sync" || n.concurrency === 1
      ? { kind: "do", fn: withRetry(n.effect, n, context) as Step["fn"], label: doOperator.explain(n) }
      : undefined,
  sync: (up, n, context) => new StepsSync(up, [doOperator.step!(n, "sync", context)!], context),
  async: (up, n, context) => {
    if (n.concurrency === 1) return new StepsAsync(up, [doOperator.step!(n, "async", context)!], context);
    const effect = withRetry(n.effect, n, context);
    const task = (x: unknown, options: CallOptions) => {
      const out = effect(x, options);
      return isPromise(out) ? Promise.resolve(out).then(() => x) : x;
    };
    // Right after a throttle, no element is pulled ahead of a free slot: each call starts when its element is stamped.
    return new ConcurrentStage(up, task, { ...n, pullAhead: !(up instanceof ThrottleAsync) }, context.callOptions);
  },
};
