import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { AGAIN, answer, inMode, Stage, type Drained, type Handled, type Handler, type Operator, type Pulled, type RunContext, type Sink } from "../core/stage.js";
import { untilArgument } from "./take.js";

export interface SkipNode {
  readonly op: "skip";
  /** How many elements to drop, or the predicate of the first element to keep. */
  readonly until: number | ((value: unknown) => unknown);
}

export function skipNode(until: unknown): SkipNode {
  return Object.freeze({ op: "skip", until: untilArgument("skip", until) });
}

/**
 * Drops the first `until` elements, or the elements before the first one
 * matching `until`; that one and everything after it are yielded, and the
 * predicate is not called again. Errors pass through and do not count.
 */
class Skip extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #node: SkipNode;
  readonly #context: RunContext;
  #skipped = 0;
  #skipping: boolean;
  constructor(upstream: Stage, node: SkipNode, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#node = node;
    this.#context = context;
    this.#skipping = node.until !== 0;
  }
  next(): Pulled {
    // Once skipping is over, this stage costs nothing: upstream answers directly.
    return this.#skipping ? answer(this) : this.#upstream.next();
  }
  /** Push mode: once skipping is over, upstream's own. */
  override drain(sink: Sink): Drained {
    return this.#skipping ? super.drain(sink) : this.#upstream.drain(sink);
  }
  pull(): Pulled {
    return this.#upstream.next();
  }
  handle(pulled: IteratorResult<unknown>): Handled {
    if (!this.#skipping || pulled.done) return pulled;
    const until = this.#node.until;
    if (typeof until === "number") {
      this.#skipping = ++this.#skipped < until;
      return AGAIN;
    }
    const matched = inMode(this.#context, skip.explain(this.#node), until(pulled.value));
    return isPromise(matched) ? Promise.resolve(matched).then((m) => this.#decide(pulled, m)) : this.#decide(pulled, matched);
  }
  #decide(pulled: IteratorResult<unknown>, matched: unknown): IteratorResult<unknown> | typeof AGAIN {
    if (!matched) return AGAIN;
    this.#skipping = false;
    return pulled;
  }
  return(): void | Promise<void> {
    return this.#upstream.return();
  }
}

export const skip: Operator<SkipNode> = {
  explain: (n) => `skip(${typeof n.until === "number" ? n.until : nameOf(n.until)})`,
  asyncOnly: (n) => (isAsyncFunction(n.until) ? `${skip.explain(n)} with an async predicate` : undefined),
  stage: (up, n, context) => new Skip(up, n, context),
};
