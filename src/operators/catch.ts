import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf, show } from "../internal/show.js";
import { boolean, func, options } from "../internal/validate.js";
import { END, element, withoutResume, type AsyncPull, type Operator, type Pulled, type Resume, type Sink, type SyncPull } from "../plan.js";
import { promiseInSyncIteration } from "../run/steps.js";

/** A class of errors, such as `TypeError` or your own `HttpError`. */
export type ErrorClass<E = unknown> = abstract new (...args: never[]) => E;

/** Options of `catch`. */
export interface CatchOptions<E, U> {
  /** Catches only the errors for which it is truthy; an error it throws comes out instead. */
  readonly where?: (error: E) => unknown;
  /** Called with each caught error (to log or collect it); an error it throws comes out instead. */
  readonly do?: (error: E) => unknown;
  /** Yields its result in place of each caught error. */
  readonly replace?: (error: E) => U | PromiseLike<U>;
  /** Ends the stream at the first caught error (after its replacement, if any). @default false */
  readonly stop?: boolean;
  /** Throws the first caught error once upstream is exhausted (or stopped), so the job still fails. @default false */
  readonly finallyThrow?: boolean;
}

type Callback = (error: unknown) => unknown;

export interface CatchNode {
  readonly op: "catch";
  /** The classes caught; empty catches everything thrown. */
  readonly errors: readonly ErrorClass[];
  readonly where: Callback | undefined;
  readonly do: Callback | undefined;
  readonly replace: Callback | undefined;
  readonly stop: boolean;
  readonly finallyThrow: boolean;
}

const OPTIONS = ["where", "do", "replace", "stop", "finallyThrow"] as const;

export function catchNode(errors: unknown, opts: unknown): CatchNode {
  if (opts === undefined && errors !== null && typeof errors === "object" && !Array.isArray(errors)) {
    [errors, opts] = [undefined, errors]; // catch({ ... }): every error
  }
  const classes = errors === undefined ? [] : Array.isArray(errors) ? errors : [errors];
  if (Array.isArray(errors) && errors.length === 0) {
    throw new TypeError("`errors` is an empty array, which would catch nothing; pass at least one error class, or none to catch every error");
  }
  for (const c of classes) {
    if (!isClass(c)) {
      const hint = typeof c === "function" ? "; to act on each caught error, pass it as an option: catch({ do: (error) => ... })" : "";
      throw new TypeError(`\`errors\` must be an error class (such as TypeError) or an array of them, got ${show(c)}${hint}`);
    }
  }
  const o = options<CatchOptions<unknown, unknown>>("catch", opts, OPTIONS);
  const optional = (name: string, fn: unknown) => (fn === undefined ? undefined : func<Callback>(name, fn));
  return Object.freeze({
    op: "catch",
    errors: Object.freeze(classes as ErrorClass[]),
    where: optional("where", o.where),
    do: optional("do", o.do),
    replace: optional("replace", o.replace),
    stop: o.stop === undefined ? false : boolean("stop", o.stop),
    finallyThrow: o.finallyThrow === undefined ? false : boolean("finallyThrow", o.finallyThrow),
  });
}

/**
 * Whether `value` can be the right side of `instanceof`: a constructor with a
 * prototype object. Arrow functions and methods such as `Math.max` have none.
 */
function isClass(value: unknown): boolean {
  if (typeof value !== "function") return false;
  const prototype = (value as { prototype?: unknown }).prototype;
  return prototype !== null && typeof prototype === "object";
}

function isOfCaughtClass(node: CatchNode, error: unknown): boolean {
  return node.errors.length === 0 || node.errors.some((c) => error instanceof c);
}

type Phase =
  | "pulling" // passing elements through, handling errors
  | "stopped" // caught an error with `stop`: upstream is closed; the end is next
  | "done";

/**
 * Handles errors from upstream: for each, checks its class, then `where`; a
 * caught error marks the stream stopped (with `stop`), is recorded (with
 * `finallyThrow`), goes to `do`, then is replaced (with `replace`) or skipped.
 */
class CatchSync implements SyncPull {
  readonly #upstream: SyncPull;
  readonly #node: CatchNode;
  #phase: Phase = "pulling";
  #first: { readonly error: unknown } | undefined;
  constructor(upstream: SyncPull, node: CatchNode) {
    this.#upstream = upstream;
    this.#node = node;
  }
  next(): IteratorResult<unknown> {
    const node = this.#node;
    while (this.#phase === "pulling") {
      let pulled: IteratorResult<unknown>;
      try {
        pulled = this.#upstream.next();
      } catch (error) {
        if (!isOfCaughtClass(node, error) || (node.where && !this.#call(node.where, error))) throw error;
        this.#caught(error);
        if (node.do) this.#call(node.do, error);
        if (node.replace) return element(this.#call(node.replace, error));
        continue;
      }
      if (!pulled.done) return pulled;
      this.#phase = "stopped";
    }
    return this.#end();
  }
  #call(fn: Callback, error: unknown): unknown {
    const out = fn(error);
    if (isPromise(out)) throw promiseInSyncIteration({ label: `catch ${nameOf(fn)}` }, out);
    return out;
  }
  #caught(error: unknown): void {
    if (this.#node.finallyThrow && this.#first === undefined) this.#first = { error };
    if (this.#node.stop) {
      this.#phase = "stopped";
      this.#upstream.return();
    }
  }
  #end(): IteratorResult<unknown> {
    if (this.#phase === "stopped") {
      this.#phase = "done";
      if (this.#first) throw this.#first.error;
    }
    return END;
  }
  return(): void {
    if (this.#phase === "done") return;
    this.#phase = "done";
    this.#upstream.return();
  }
}

class CatchAsync implements AsyncPull {
  readonly #upstream: AsyncPull;
  readonly #node: CatchNode;
  #phase: Phase = "pulling";
  #first: { readonly error: unknown } | undefined;
  constructor(upstream: AsyncPull, node: CatchNode) {
    this.#upstream = upstream;
    this.#node = node;
  }
  /** Answers at once while upstream does and nothing fails: catching costs no promise per element. */
  next(): Pulled {
    if (this.#phase !== "pulling") return this.#end();
    let pulled: Pulled;
    try {
      pulled = this.#upstream.next();
    } catch (error) {
      return this.#loop(Promise.reject(error));
    }
    if (isPromise(pulled)) return this.#loop(pulled);
    if (!pulled.done) return pulled;
    this.#phase = "stopped";
    return this.#end();
  }

  /**
   * Push mode (see `AsyncPull.drain`): upstream hands the elements that are
   * ready straight to `sink`; an error goes the general way. PAUSED, being no
   * end, passes on like an element.
   */
  drain(sink: Sink): Pulled | Resume {
    const upstream = this.#upstream;
    if (this.#phase !== "pulling" || upstream.drain === undefined) return this.next();
    let answer: Pulled | Resume;
    try {
      answer = upstream.drain(sink);
    } catch (error) {
      return this.#loop(Promise.reject(error));
    }
    answer = withoutResume(answer);
    if (isPromise(answer)) return this.#loop(answer);
    if (!answer.done) return answer;
    this.#phase = "stopped";
    return this.#end();
  }

  /** The general case, from a pull that is pending or failed: errors are handled here (their callbacks may be async). */
  async #loop(first: PromiseLike<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> {
    const node = this.#node;
    let pending: PromiseLike<IteratorResult<unknown>> | Pulled | undefined = first;
    while (this.#phase === "pulling") {
      let pulled: IteratorResult<unknown>;
      try {
        pulled = await (pending ?? this.#upstream.next());
      } catch (error) {
        pending = undefined;
        if (!isOfCaughtClass(node, error) || (node.where && !(await node.where(error)))) throw error;
        await this.#caught(error);
        if (node.do) await node.do(error);
        if (node.replace) return element(await node.replace(error));
        continue;
      }
      pending = undefined;
      if (!pulled.done) return pulled;
      this.#phase = "stopped";
    }
    return this.#end();
  }

  async #caught(error: unknown): Promise<void> {
    if (this.#node.finallyThrow && this.#first === undefined) this.#first = { error };
    if (this.#node.stop) {
      this.#phase = "stopped";
      await this.#upstream.return();
    }
  }
  #end(): IteratorResult<unknown> {
    if (this.#phase === "stopped") {
      this.#phase = "done";
      if (this.#first) throw this.#first.error;
    }
    return END;
  }
  async return(): Promise<void> {
    if (this.#phase === "done") return;
    this.#phase = "done";
    await this.#upstream.return();
  }
}

export const catchOperator: Operator<CatchNode> = {
  explain: (n) => {
    const errors = n.errors.length === 1 ? nameOf(n.errors[0]!) : `[${n.errors.map((c) => nameOf(c)).join(", ")}]`;
    const parts: string[] = [];
    for (const key of ["where", "do", "replace"] as const) if (n[key]) parts.push(`${key}: ${nameOf(n[key]!, key)}`);
    for (const key of ["stop", "finallyThrow"] as const) if (n[key]) parts.push(`${key}: true`);
    const args = [n.errors.length ? errors : "", parts.length ? `{ ${parts.join(", ")} }` : ""].filter(Boolean);
    return `catch(${args.join(", ")})`;
  },
  asyncOnly: (n) => {
    const fn = [n.where, n.do, n.replace].find(isAsyncFunction);
    return fn ? `catch with ${nameOf(fn)}, an async function` : undefined;
  },
  sync: (up, n) => new CatchSync(up, n),
  async: (up, n) => new CatchAsync(up, n),
};
