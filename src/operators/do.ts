import { isPromise } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { func } from "../internal/validate.js";
import type { CallOptions, Operator, Step } from "../core/stage.js";
import { stepsStage } from "../core/steps.js";
import { concurrencyAsyncOnly, concurrencyOptions, concurrentStage, explainConcurrency, withRetry, type Concurrency } from "./map.js";

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
  step: (n, context) =>
    context.mode === "sync" || n.concurrency === 1
      ? { kind: "do", fn: withRetry(n.effect, n, context) as Step["fn"], label: doOperator.explain(n) }
      : undefined,
  stage: (up, n, context) => {
    const step = doOperator.step!(n, context);
    if (step) return stepsStage(up, [step], context);
    return concurrentStage(up, n, context, (own) => {
      const effect = withRetry(n.effect, n, own);
      return (x: unknown, options: CallOptions) => {
        const out = effect(x, options);
        return isPromise(out) ? Promise.resolve(out).then(() => x) : x;
      };
    });
  },
};
