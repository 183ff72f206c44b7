import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf, show } from "../internal/show.js";
import { integer } from "../internal/validate.js";
import {
  andThen,
  answer,
  END,
  inMode,
  OwnStop,
  PAUSED,
  Stage,
  STOPPED_HERE,
  withoutResume,
  type Drained,
  type Handled,
  type Handler,
  type Operator,
  type Pulled,
  type RunContext,
  type Sink,
} from "../core/stage.js";

export interface TakeNode {
  readonly op: "take";
  /** How many elements to yield, or the predicate of the element that ends the stream. */
  readonly until: number | ((value: unknown) => unknown);
}

export function takeNode(until: unknown): TakeNode {
  return Object.freeze({ op: "take", until: untilArgument("take", until) });
}

/** `until` of `take` and `skip`: a count (an integer >= 0) or a predicate. */
export function untilArgument(operation: string, until: unknown): TakeNode["until"] {
  if (typeof until === "function") return until as TakeNode["until"];
  if (typeof until === "number") return integer("until", until, 0, true);
  throw new TypeError(`\`${operation}\` expects a count or a predicate as \`until\`, got ${show(until)}`);
}

/**
 * The first `until` elements, or the elements before the first one matching
 * `until`, which is consumed but not yielded. Errors pass through and do not
 * count. Once done it closes upstream without pulling it again.
 */
class Take extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #node: TakeNode;
  readonly #context: RunContext;
  readonly #own = new OwnStop();
  #taken = 0;
  #done = false;
  constructor(upstream: Stage, node: TakeNode, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#node = node;
    this.#context = context;
  }

  /** A count answers at once while upstream does; a predicate (maybe async) goes through the driver. */
  next(): Pulled {
    if (this.#done) return END;
    const until = this.#node.until;
    if (typeof until !== "number") return answer(this);
    if (this.#taken >= until) return this.#end();
    const pulled = this.#upstream.next();
    return isPromise(pulled) ? pulled.then(this.#counted) : this.#counted(pulled);
  }

  /**
   * Push mode for a count: upstream hands the elements that are ready to
   * `sink` through a counter, which stops its loop right after the last one,
   * before anything more is pulled.
   */
  override drain(sink: Sink): Drained {
    const until = this.#node.until;
    if (this.#done || typeof until !== "number" || this.#taken >= until) return super.drain(sink);
    const own = this.#own;
    own.reset();
    const answer = own.answer(
      this.#upstream.drain((value) => {
        this.#taken++;
        if (sink(value) === true) return true;
        return this.#taken >= until && own.stop();
      }),
    );
    if (answer === STOPPED_HERE) return this.#end();
    if (answer === PAUSED) return PAUSED;
    const pulled = withoutResume(answer);
    return isPromise(pulled) ? pulled.then(this.#counted) : this.#counted(pulled);
  }

  readonly #counted = (pulled: IteratorResult<unknown>): Pulled => {
    if (pulled.done) return this.#end();
    this.#taken++;
    return pulled;
  };

  pull(): Pulled {
    return this.#upstream.next();
  }
  handle(pulled: IteratorResult<unknown>): Handled {
    if (pulled.done || this.#done) return this.#end(); // an answer that comes after close is dropped
    const matched = inMode(this.#context, take.explain(this.#node), (this.#node.until as (value: unknown) => unknown)(pulled.value));
    return isPromise(matched) ? Promise.resolve(matched).then((m) => this.#decide(pulled, m)) : this.#decide(pulled, matched);
  }
  #decide(pulled: IteratorResult<unknown>, matched: unknown): Pulled {
    if (matched) return this.#end();
    this.#taken++;
    return pulled;
  }

  #end(): Pulled {
    return andThen(this.return(), () => END);
  }
  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    return this.#upstream.return();
  }
}

export const take: Operator<TakeNode> = {
  explain: (n) => `take(${typeof n.until === "number" ? n.until : nameOf(n.until)})`,
  asyncOnly: (n) => (isAsyncFunction(n.until) ? `${take.explain(n)} with an async predicate` : undefined),
  stage: (up, n, context) => new Take(up, n, context),
};
