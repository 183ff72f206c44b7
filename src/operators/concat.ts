import { show, showShape } from "../internal/show.js";
import { AGAIN, answer, END, Stage, type Handled, type Handler, type Operator, type Pulled, type RunContext } from "../core/stage.js";
import { openSource, sourceKind } from "../core/sources.js";

export interface ConcatNode {
  readonly op: "concat";
  /** Read in order once upstream is exhausted; each is opened only when its turn comes. */
  readonly sources: readonly (Iterable<unknown> | AsyncIterable<unknown>)[];
}

export function concatNode(sources: readonly unknown[]): ConcatNode {
  sources.forEach((source, i) => {
    if (typeof source === "function") throw new TypeError(`\`concat\` expects iterables, got ${show(source)} at position ${i}`);
    sourceKind(source, `sources[${i}]`);
  });
  return Object.freeze({ op: "concat", sources: Object.freeze([...sources]) as ConcatNode["sources"] });
}

/** Upstream's elements, then each source's in turn. */
class Concat extends Stage implements Handler {
  readonly #context: RunContext;
  #current: Stage;
  readonly #rest: ConcatNode["sources"][number][];
  #done = false;
  constructor(upstream: Stage, node: ConcatNode, context: RunContext) {
    super();
    this.#current = upstream;
    this.#rest = [...node.sources];
    this.#context = context;
  }
  next(): Pulled {
    return this.#done ? END : answer(this);
  }
  pull(): Pulled {
    return this.#current.next();
  }
  handle(pulled: IteratorResult<unknown>): Handled {
    if (!pulled.done || this.#done) return pulled;
    const source = this.#rest.shift();
    if (source === undefined) {
      this.#done = true;
      return END;
    }
    this.#current = openSource(source, this.#context);
    return AGAIN;
  }
  return(): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    return this.#current.return();
  }
}

export const concat: Operator<ConcatNode> = {
  explain: (n) => `concat(${n.sources.map((s) => showShape(s)).join(", ")})`,
  asyncOnly: (n) =>
    n.sources.some((s) => typeof (s as Iterable<unknown>)[Symbol.iterator] !== "function")
      ? `${concat.explain(n)} of an AsyncIterable`
      : undefined,
  stage: (up, n, context) => new Concat(up, n, context),
};
