import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { func, integer, options } from "../internal/validate.js";
import { promiseInSyncIteration } from "../run/steps.js";
import { END, element, type AsyncPull, type Operator, type SyncPull } from "../plan.js";

export interface GroupNode {
  readonly op: "group";
  /** Largest group size; `Infinity` for no limit. */
  readonly upTo: number;
  /** Key of an element; when set, groups are `[key, elements]` pairs. */
  readonly by: ((value: unknown) => unknown) | undefined;
}

/** Options of `group`. */
export interface GroupOptions<T, K> {
  /** Largest group size, at least 1. @default Infinity */
  readonly upTo?: number;
  /** Groups elements by this key; groups are then `[key, elements]` pairs. */
  readonly by?: (value: T) => K | PromiseLike<K>;
}

export function groupNode(arg: unknown): GroupNode {
  const opts = typeof arg === "number" ? { upTo: arg } : options<GroupOptions<unknown, unknown>>("group", arg, ["upTo", "by"]);
  return Object.freeze({
    op: "group",
    upTo: opts.upTo === undefined ? Infinity : integer("upTo", opts.upTo, 1, true),
    by: opts.by === undefined ? undefined : func<GroupNode["by"] & Function>("by", opts.by),
  });
}

/** The key every element shares when there is no `by`. */
const ONE_GROUP = Symbol("ONE_GROUP");

/** Pending groups by key, kept in creation order (a key's first element creates its group). */
class PendingGroups {
  readonly #byKey = new Map<unknown, unknown[]>();
  readonly #node: GroupNode;
  constructor(node: GroupNode) {
    this.#node = node;
  }
  /** Adds `value` to its key's group; returns the group, as output, when that makes it full. */
  add(key: unknown, value: unknown): unknown {
    let items = this.#byKey.get(key);
    if (items === undefined) this.#byKey.set(key, (items = []));
    items.push(value);
    if (items.length < this.#node.upTo) return undefined;
    this.#byKey.delete(key);
    return this.#output(key, items);
  }
  /** Removes the oldest group and returns it as output, or undefined when none is pending. */
  takeOldest(): unknown {
    for (const [key, items] of this.#byKey) {
      this.#byKey.delete(key);
      return this.#output(key, items);
    }
    return undefined;
  }
  #output(key: unknown, items: unknown[]): unknown {
    return key === ONE_GROUP ? items : [key, items];
  }
}

type Phase =
  | { readonly kind: "pulling" } // reading upstream into the pending groups
  | { readonly kind: "flushing"; readonly then: "end" } // upstream ended: emit every pending group, then end
  | { readonly kind: "flushing"; readonly then: "throw"; readonly error: unknown } // emit every pending group, then throw
  | { readonly kind: "done" };

const PULLING: Phase = { kind: "pulling" };
const ENDING: Phase = { kind: "flushing", then: "end" };
const DONE: Phase = { kind: "done" };

/**
 * Shared by both runners: what to answer while flushing. Returns the next
 * pending group as a result, END, or throws the error that started the flush.
 */
function flushStep(groups: PendingGroups, stage: { phase: Phase }): IteratorResult<unknown> {
  const phase = stage.phase as Extract<Phase, { kind: "flushing" }>;
  const oldest = groups.takeOldest();
  if (oldest !== undefined) return element(oldest);
  if (phase.then === "end") {
    stage.phase = DONE;
    return END;
  }
  stage.phase = PULLING;
  throw phase.error;
}

/**
 * Groups of at most `upTo` elements, by key when `by` is set. At the end of
 * upstream, and on an error (upstream or from `by`), every pending group is
 * emitted, oldest first, one per call; then the stream ends or the error is
 * thrown, and grouping goes on afresh.
 */
class GroupSync implements SyncPull {
  readonly #upstream: SyncPull;
  readonly #by: GroupNode["by"];
  readonly #groups: PendingGroups;
  phase: Phase = PULLING;
  constructor(upstream: SyncPull, node: GroupNode) {
    this.#upstream = upstream;
    this.#by = node.by;
    this.#groups = new PendingGroups(node);
  }
  next(): IteratorResult<unknown> {
    for (;;) {
      if (this.phase.kind === "done") return END;
      if (this.phase.kind === "flushing") return flushStep(this.#groups, this);
      let key: unknown = ONE_GROUP;
      let pulled: IteratorResult<unknown>;
      try {
        pulled = this.#upstream.next();
        if (pulled.done) {
          this.phase = ENDING;
          continue;
        }
        if (this.#by !== undefined) {
          key = this.#by(pulled.value);
          if (isPromise(key)) throw promiseInSyncIteration({ label: `group by ${nameOf(this.#by)}` }, key);
        }
      } catch (error) {
        this.phase = { kind: "flushing", then: "throw", error };
        continue;
      }
      const full = this.#groups.add(key, pulled.value);
      if (full !== undefined) return element(full);
    }
  }
  return(): void {
    if (this.phase.kind === "done") return;
    this.phase = DONE;
    this.#upstream.return();
  }
}

class GroupAsync implements AsyncPull {
  readonly #upstream: AsyncPull;
  readonly #by: GroupNode["by"];
  readonly #groups: PendingGroups;
  phase: Phase = PULLING;
  constructor(upstream: AsyncPull, node: GroupNode) {
    this.#upstream = upstream;
    this.#by = node.by;
    this.#groups = new PendingGroups(node);
  }
  async next(): Promise<IteratorResult<unknown>> {
    for (;;) {
      if (this.phase.kind === "done") return END;
      if (this.phase.kind === "flushing") return flushStep(this.#groups, this);
      let key: unknown = ONE_GROUP;
      let pulled: IteratorResult<unknown>;
      try {
        pulled = await this.#upstream.next();
        if (pulled.done) {
          this.phase = ENDING;
          continue;
        }
        if (this.#by !== undefined) {
          key = this.#by(pulled.value);
          if (isPromise(key)) key = await key;
        }
      } catch (error) {
        this.phase = { kind: "flushing", then: "throw", error };
        continue;
      }
      const full = this.#groups.add(key, pulled.value);
      if (full !== undefined) return element(full);
    }
  }
  async return(): Promise<void> {
    if (this.phase.kind === "done") return;
    this.phase = DONE;
    await this.#upstream.return();
  }
}

export const group: Operator<GroupNode> = {
  explain: (n) => {
    const parts = [];
    if (n.upTo !== Infinity) parts.push(`upTo: ${n.upTo}`);
    if (n.by) parts.push(`by: ${nameOf(n.by, "by")}`);
    if (parts.length === 0) return "group()";
    if (n.by === undefined) return `group(${n.upTo})`;
    return `group({ ${parts.join(", ")} })`;
  },
  asyncOnly: (n) => (n.by && isAsyncFunction(n.by) ? `group by ${nameOf(n.by)}, an async function` : undefined),
  sync: (up, n) => new GroupSync(up, n),
  async: (up, n) => new GroupAsync(up, n),
};
