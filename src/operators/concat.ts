import { isPromise } from "../internal/promise.js";
import { show, showShape } from "../internal/show.js";
import { END, type AsyncPull, type Operator, type Pulled, type SyncPull } from "../plan.js";
import { openSourceAsync, openSourceSync, sourceKind } from "../run/source.js";

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
class ConcatSync implements SyncPull {
  #current: SyncPull;
  readonly #rest: ConcatNode["sources"][number][];
  #done = false;
  constructor(upstream: SyncPull, node: ConcatNode) {
    this.#current = upstream;
    this.#rest = [...node.sources];
  }
  next(): IteratorResult<unknown> {
    for (;;) {
      if (this.#done) return END;
      const pulled = this.#current.next();
      if (!pulled.done) return pulled;
      const source = this.#rest.shift();
      if (source === undefined) this.#done = true;
      else this.#current = openSourceSync(source as Iterable<unknown>);
    }
  }
  return(): void {
    if (this.#done) return;
    this.#done = true;
    this.#current.return();
  }
}

class ConcatAsync implements AsyncPull {
  #current: AsyncPull;
  readonly #rest: ConcatNode["sources"][number][];
  #done = false;
  constructor(upstream: AsyncPull, node: ConcatNode) {
    this.#current = upstream;
    this.#rest = [...node.sources];
  }
  next(): Pulled {
    if (this.#done) return END;
    const pulled = this.#current.next();
    if (isPromise(pulled)) return pulled.then((p) => this.#after(p));
    return this.#after(pulled);
  }
  #after(pulled: IteratorResult<unknown>): Pulled {
    if (!pulled.done) return pulled;
    const source = this.#rest.shift();
    if (source === undefined) {
      this.#done = true;
      return END;
    }
    this.#current = openSourceAsync(source);
    return this.next();
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
  sync: (up, n) => new ConcatSync(up, n),
  async: (up, n) => new ConcatAsync(up, n),
};
