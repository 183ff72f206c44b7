import type { Clock } from "../internal/clock.js";
import { duration, showDuration, type Duration } from "../internal/duration.js";
import { integer, options } from "../internal/validate.js";
import { checkStoreAndKey, type ThrottleStore } from "../quota.js";
import { END, Stage, type Operator, type RunContext } from "../core/stage.js";
import { Window } from "../core/window.js";

/** Options of `throttle`. */
export interface ThrottleOptions {
  /** The sliding window: at most `upTo` emissions in any `per`. */
  readonly per: Duration;
  /** Where the window is kept, to share it (with other streams, or processes through a shared store). */
  readonly store?: ThrottleStore;
  /** The quota's name in `store` (needed with one). */
  readonly key?: string;
}

export interface ThrottleNode {
  readonly op: "throttle";
  readonly upTo: number;
  /** Milliseconds. */
  readonly per: number;
  /** `per` as written, for explain. */
  readonly perAsWritten: Duration;
  readonly store: ThrottleStore | undefined;
  readonly key: string | undefined;
}

export function throttleNode(upTo: unknown, opts: unknown): ThrottleNode {
  const o = options<ThrottleOptions>("throttle", opts, ["per", "store", "key"]);
  if (o.per === undefined) throw new TypeError("`throttle` needs `per`, the window: throttle(16, { per: \"1s\" })");
  checkStoreAndKey(o.store, o.key);
  if ((o.store === undefined) !== (o.key === undefined)) throw new TypeError("`throttle` takes `store` and `key` together: the store, and the quota's name in it");
  return Object.freeze({ op: "throttle", upTo: integer("upTo", upTo, 1), per: duration("per", o.per), perAsWritten: o.per, store: o.store, key: o.key });
}

/**
 * A sliding window over emissions (elements and errors both count): the k-th
 * emission never comes before the (k - upTo)-th plus `per`. Pulls first, then
 * waits what the window requires; the end of the stream is not delayed.
 */
export class Throttle extends Stage {
  readonly #upstream: Stage;
  readonly #node: ThrottleNode;
  readonly #clock: Clock;
  readonly #signal: AbortSignal;
  readonly #window: Window;
  #done = false;
  constructor(upstream: Stage, node: ThrottleNode, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#node = node;
    this.#clock = context.clock;
    this.#signal = context.signal;
    this.#window = new Window(node.upTo);
  }
  async next(): Promise<IteratorResult<unknown>> {
    if (this.#done) return END;
    let pulled: IteratorResult<unknown> | undefined;
    let error: { readonly error: unknown } | undefined;
    try {
      pulled = await this.#upstream.next();
      if (pulled.done) return pulled;
    } catch (e) {
      error = { error: e };
    }
    const { store, key, upTo, per } = this.#node;
    if (store !== undefined) {
      // A shared window: the element's place lasts `per` from when it goes.
      await (await store.acquire(key!, { upTo, per, from: "start" }, this.#signal)).release();
    } else {
      // A timer may fire a little early against `now()`: wait until the window truly allows it.
      for (let wait; (wait = this.#window.earliest(per) - this.#clock.now()) > 0; ) {
        await this.#clock.sleep(wait, this.#signal);
      }
      this.#window.record(this.#clock.now());
    }
    if (error) throw error.error;
    return pulled!;
  }
  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    return this.#upstream.return();
  }
}

export const throttle: Operator<ThrottleNode> = {
  explain: (n) => `throttle(${n.upTo}, { per: ${showDuration(n.perAsWritten)}${n.key === undefined ? "" : `, key: ${JSON.stringify(n.key)}`} })`,
  asyncOnly: (n) => `${throttle.explain(n)} runs only in async iteration`,
  stage: (up, n, context) => new Throttle(up, n, context),
};
