import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf } from "../internal/show.js";
import { func, integer, options } from "../internal/validate.js";
import {
  AGAIN,
  answer,
  closeBehindPull,
  element,
  END,
  inMode,
  PAUSED,
  Stage,
  Resume,
  type Handled,
  type Handler,
  type Operator,
  type Pulled,
  type RunContext,
} from "../core/stage.js";
import type { Clock } from "../internal/clock.js";
import { Alarm } from "../core/alarm.js";
import { Queue } from "../core/queue.js";
import { duration, showDuration, type Duration } from "../internal/duration.js";

export interface GroupNode {
  readonly op: "group";
  /** Largest group size; `Infinity` for no limit. */
  readonly upTo: number;
  /** Key of an element; when set, groups are `[key, elements]` pairs. */
  readonly by: ((value: unknown) => unknown) | undefined;
  /** Longest time in milliseconds a group stays pending, from its first element. */
  readonly within: number | undefined;
  readonly withinAsWritten: Duration | undefined;
}

/** Options of `group`. */
export interface GroupOptions<T, K> {
  /** Largest group size, at least 1. @default Infinity */
  readonly upTo?: number;
  /** Groups elements by this key; groups are then `[key, elements]` pairs. */
  readonly by?: (value: T) => K | PromiseLike<K>;
  /**
   * Longest time a group stays pending, counted from its first element: when it
   * passes, the group is emitted even if upstream is still waiting (async
   * iteration only). In a run of ready elements the clock is read every 16th
   * element, so a group due mid-run comes out at most 15 elements later.
   */
  readonly within?: Duration;
}

export function groupNode(arg: unknown): GroupNode {
  const opts = typeof arg === "number" ? { upTo: arg } : options<GroupOptions<unknown, unknown>>("group", arg, ["upTo", "by", "within"]);
  return Object.freeze({
    op: "group",
    upTo: opts.upTo === undefined ? Infinity : integer("upTo", opts.upTo, 1, true),
    by: opts.by === undefined ? undefined : func<GroupNode["by"] & Function>("by", opts.by),
    within: opts.within === undefined ? undefined : duration("within", opts.within),
    withinAsWritten: opts.within,
  });
}

/** The key every element shares when there is no `by`. */
const ONE_GROUP = Symbol("ONE_GROUP");

/** A pending group: its elements and when its first one came. */
interface Pending {
  readonly items: unknown[];
  readonly createdAt: number;
}

/**
 * Pending groups by key, kept in creation order (a key's first element creates
 * its group): the window helper of both grouping by size and grouping by time.
 */
class PendingGroups {
  readonly #byKey = new Map<unknown, Pending>();
  readonly #node: GroupNode;
  /** The first group of `#byKey`, kept at hand: grouping by time asks for it at every element. */
  #oldest: Pending | undefined;
  constructor(node: GroupNode) {
    this.#node = node;
  }
  /**
   * Adds `value` to its key's group; returns the group, as output, when that
   * makes it full. A new group's creation time is read from `clock`, if given.
   */
  add(key: unknown, value: unknown, clock?: Clock): unknown {
    let group = this.#byKey.get(key);
    if (group === undefined) {
      this.#byKey.set(key, (group = { items: [], createdAt: clock ? clock.now() : 0 }));
      this.#oldest ??= group;
    }
    group.items.push(value);
    if (group.items.length < this.#node.upTo) return undefined;
    this.#remove(key, group);
    return this.#output(key, group.items);
  }
  /** Removes the oldest group and returns it as output, or undefined when none is pending. */
  takeOldest(): unknown {
    for (const [key, group] of this.#byKey) {
      this.#remove(key, group);
      return this.#output(key, group.items);
    }
    return undefined;
  }
  /** When the oldest group is due (its creation + `within`), or undefined when none is pending. */
  oldestDeadline(): number | undefined {
    return this.#oldest === undefined ? undefined : this.#oldest.createdAt + this.#node.within!;
  }
  #remove(key: unknown, group: Pending): void {
    this.#byKey.delete(key);
    if (this.#oldest !== group) return;
    this.#oldest = undefined;
    for (const next of this.#byKey.values()) {
      this.#oldest = next;
      break;
    }
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
class Group extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #by: GroupNode["by"];
  readonly #groups: PendingGroups;
  readonly #context: RunContext;
  readonly #label: string;
  /** The group that filled up while upstream pushed elements into it (see `pull`). */
  #filled: unknown;
  phase: Phase = PULLING;
  constructor(upstream: Stage, node: GroupNode, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#by = node.by;
    this.#groups = new PendingGroups(node);
    this.#context = context;
    this.#label = node.by === undefined ? "" : `group by ${nameOf(node.by)}`;
  }
  next(): Pulled {
    if (this.phase.kind === "done") return END;
    if (this.phase.kind === "flushing") return flushStep(this.#groups, this);
    return answer(this);
  }

  /**
   * Upstream's next answer. Without `by`, upstream pushes the elements that
   * are ready straight into the group (see {@link Stage.drain}), with no
   * iterator result each, and its loop stops once the group is full: the
   * answer is then PAUSED and the group is in `#filled`.
   */
  pull(): Pulled | Resume {
    const upstream = this.#upstream;
    if (this.#by !== undefined) return upstream.next();
    const groups = this.#groups;
    return upstream.drain((value) => {
      const full = groups.add(ONE_GROUP, value);
      if (full === undefined) return false;
      this.#filled = full;
      return true;
    });
  }

  handle(pulled: IteratorResult<unknown>): Handled {
    if (pulled === PAUSED) {
      const filled = this.#filled;
      this.#filled = undefined;
      return element(filled);
    }
    if (this.phase.kind === "done") return END; // closed while the pull was pending
    if (pulled.done) {
      this.phase = ENDING;
      return flushStep(this.#groups, this);
    }
    const by = this.#by;
    if (by === undefined) return this.#add(ONE_GROUP, pulled.value);
    const key = inMode(this.#context, this.#label, by(pulled.value));
    return isPromise(key) ? Promise.resolve(key).then((k) => this.#add(k, pulled.value)) : this.#add(key, pulled.value);
  }

  #add(key: unknown, value: unknown): IteratorResult<unknown> | typeof AGAIN {
    const full = this.#groups.add(key, value);
    return full === undefined ? AGAIN : element(full);
  }

  /** An error from upstream or from `by`: every pending group comes out first, then the error. */
  handleError(error: unknown): IteratorResult<unknown> {
    if (this.phase.kind === "done") throw error;
    this.phase = { kind: "flushing", then: "throw", error };
    return flushStep(this.#groups, this);
  }

  return(): void | Promise<void> {
    if (this.phase.kind === "done") return;
    this.phase = DONE;
    return this.#upstream.return();
  }
}

/**
 * Grouping by time: a group is also emitted once `within` has passed since its
 * first element. Upstream is pulled one element at a time, only while the
 * consumer waits; while a pull is pending the stage waits at most until the
 * oldest group's deadline, emits that one group, and lets the pull go on. An
 * overdue group is emitted before an element that arrived meanwhile is added.
 */
class GroupWithin extends Stage {
  readonly #upstream: Stage;
  readonly #by: GroupNode["by"];
  readonly #groups: PendingGroups;
  readonly #clock: Clock;
  readonly #alarm: Alarm;
  /** The pull that went pending, in flight or settled and not handled yet: the ordered {@link Queue} with at most one entry. */
  readonly #pulls = new Queue("ordered");
  /** That pull is still in flight. */
  #pulling = false;
  /** A pull went pending and is in `#pulls`, settled or not, until it is handled. */
  #pullWentPending = false;
  /** Elements to handle before the clock is read again, in a run that answers without waiting. */
  #readClockIn = 0;
  phase: Phase = PULLING;
  constructor(upstream: Stage, node: GroupNode, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#by = node.by;
    this.#groups = new PendingGroups(node);
    this.#clock = context.clock;
    this.#alarm = new Alarm(context.clock, context.signal);
  }
  async next(): Promise<IteratorResult<unknown>> {
    this.#readClockIn = 0; // time passed while the consumer was away
    for (;;) {
      if (this.phase.kind === "done") return END;
      if (this.phase.kind === "flushing") {
        this.#alarm.clear(); // no group waits on a deadline now: an armed timer would hold the process until it fires
        return flushStep(this.#groups, this);
      }
      const deadline = this.#groups.oldestDeadline();
      if (deadline !== undefined && this.#overdue(deadline)) return element(this.#groups.takeOldest());
      let result: IteratorResult<unknown>;
      // The queue only while a pull went pending: a ready upstream costs a flag per element.
      const pull = this.#pullWentPending ? this.#pulls.take() : undefined;
      if (pull === undefined && this.#pullWentPending) {
        const settling = this.#pulls.settling();
        await (deadline === undefined ? settling : Promise.race([settling, this.#alarm.at(deadline)]));
        this.#readClockIn = 0;
        continue; // the element came, or the oldest group's deadline did
      } else if (pull !== undefined) {
        // Came while the consumer was away: handled only now, after any overdue group.
        this.#pullWentPending = false;
        if (pull.state === "failed") {
          this.#fail(pull.value);
          continue;
        }
        result = pull.value as IteratorResult<unknown>;
      } else {
        let pulled: Pulled;
        try {
          pulled = this.#upstream.next();
        } catch (error) {
          this.#fail(error);
          continue;
        }
        if (isPromise(pulled)) {
          this.#pulling = true;
          this.#pullWentPending = true;
          this.#pulls.settle(this.#pulls.add(), pulled, this.#pullSettled);
          continue;
        }
        result = pulled; // ready: no timer, no promise
      }
      let full = this.#add(result);
      if (isPromise(full)) {
        full = await full;
        this.#readClockIn = 0;
      }
      if (full !== undefined) return element(full);
    }
  }

  /**
   * Whether the oldest group is due. Reading the clock costs more than grouping
   * an element, so in a run of ready elements it is read every 16th element
   * (a due group then waits at most 15 elements more); after any wait, at once.
   */
  #overdue(deadline: number): boolean {
    if (--this.#readClockIn > 0) return false;
    this.#readClockIn = 16;
    return this.#clock.now() >= deadline;
  }

  readonly #pullSettled = (): void => {
    this.#pulling = false;
  };

  /** Adds a pulled element to its group; returns the group when that fills it (a promise only when `by` is async). */
  #add(result: IteratorResult<unknown>): unknown {
    if (result.done) {
      this.phase = ENDING;
      return undefined;
    }
    let key: unknown = ONE_GROUP;
    try {
      if (this.#by !== undefined) key = this.#by(result.value);
    } catch (error) {
      return this.#fail(error);
    }
    if (isPromise(key)) {
      return Promise.resolve(key).then(
        (k) => this.#groups.add(k, result.value, this.#clock),
        (error: unknown) => this.#fail(error),
      );
    }
    return this.#groups.add(key, result.value, this.#clock);
  }
  #fail(error: unknown): undefined {
    this.phase = { kind: "flushing", then: "throw", error };
    return undefined;
  }
  async return(): Promise<void> {
    if (this.phase.kind === "done") return;
    this.phase = DONE;
    this.#alarm.clear();
    this.#pulls.clear();
    await closeBehindPull(this.#upstream, this.#pulling);
  }
}

export const group: Operator<GroupNode> = {
  explain: (n) => {
    const parts = [];
    if (n.upTo !== Infinity) parts.push(`upTo: ${n.upTo}`);
    if (n.within !== undefined) parts.push(`within: ${showDuration(n.withinAsWritten!)}`);
    if (n.by) parts.push(`by: ${nameOf(n.by, "by")}`);
    if (parts.length === 0) return "group()";
    if (n.by === undefined && n.within === undefined) return `group(${n.upTo})`;
    return `group({ ${parts.join(", ")} })`;
  },
  asyncOnly: (n) => {
    if (n.within !== undefined) return `${group.explain(n)} runs only in async iteration`;
    return n.by && isAsyncFunction(n.by) ? `group by ${nameOf(n.by)}, an async function` : undefined;
  },
  stage: (up, n, context) => (n.within === undefined ? new Group(up, n, context) : new GroupWithin(up, n, context)),
};
