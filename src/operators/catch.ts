import { isAsyncFunction, isPromise } from "../internal/promise.js";
import { nameOf, show } from "../internal/show.js";
import { boolean, func, options } from "../internal/validate.js";
import {
  AGAIN,
  andThen,
  answer,
  element,
  END,
  inMode,
  PAUSED,
  Stage,
  withoutResume,
  type Drained,
  type Handled,
  type Handler,
  type Operator,
  type Pulled,
  type RunContext,
  type Sink,
} from "../core/stage.js";

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
 * Answers at once while upstream does and nothing fails: catching costs no
 * promise per element.
 */
class Catch extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #node: CatchNode;
  readonly #context: RunContext;
  #phase: Phase = "pulling";
  #first: { readonly error: unknown } | undefined;
  /** A pull that push mode left pending: the driver's next pull. */
  #pending: Promise<IteratorResult<unknown>> | undefined;
  constructor(upstream: Stage, node: CatchNode, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#node = node;
    this.#context = context;
  }

  next(): Pulled {
    return this.#phase === "pulling" ? answer(this) : this.#end();
  }

  /**
   * Push mode: upstream hands the elements that are ready straight to `sink`;
   * an error is handled here and the push goes on. PAUSED, being no end,
   * passes on like an element.
   */
  override drain(sink: Sink): Drained {
    for (;;) {
      if (this.#phase !== "pulling") return this.#end();
      let drained: Drained;
      try {
        drained = this.#upstream.drain(sink);
      } catch (error) {
        const out = this.handleError(error);
        if (out === AGAIN) continue;
        return isPromise(out) ? Promise.resolve(out).then((o) => (o === AGAIN ? this.next() : o)) : out;
      }
      if (drained === PAUSED) return PAUSED;
      const pulled = withoutResume(drained);
      if (!isPromise(pulled)) return this.handle(pulled);
      this.#pending = pulled;
      return answer(this);
    }
  }

  pull(): Pulled {
    const pending = this.#pending;
    if (pending === undefined) return this.#upstream.next();
    this.#pending = undefined;
    return pending;
  }

  handle(pulled: IteratorResult<unknown>): IteratorResult<unknown> {
    if (!pulled.done) return pulled;
    if (this.#phase === "pulling") this.#phase = "stopped";
    return this.#end();
  }

  handleError(error: unknown): Handled {
    const node = this.#node;
    // Not caught here: another's error, or the one `finallyThrow` throws at the end.
    if (this.#phase !== "pulling" || !isOfCaughtClass(node, error)) throw error;
    if (node.where === undefined) return this.#caught(error);
    return andThen(this.#call(node.where, error), (keep) => {
      if (!keep) throw error;
      return this.#caught(error);
    });
  }

  #caught(error: unknown): Handled {
    const node = this.#node;
    if (node.finallyThrow && this.#first === undefined) this.#first = { error };
    const closing = node.stop ? ((this.#phase = "stopped"), this.#upstream.return()) : undefined;
    return andThen(closing, () =>
      andThen(node.do && this.#call(node.do, error), () => {
        if (node.replace) return andThen(this.#call(node.replace, error), element);
        return this.#phase === "pulling" ? AGAIN : this.#end();
      }),
    );
  }

  #call(fn: Callback, error: unknown): unknown {
    return inMode(this.#context, `catch ${nameOf(fn)}`, fn(error));
  }

  #end(): IteratorResult<unknown> {
    if (this.#phase === "stopped") {
      this.#phase = "done";
      if (this.#first) throw this.#first.error;
    }
    this.#phase = "done";
    return END;
  }
  return(): void | Promise<void> {
    if (this.#phase === "done") return;
    this.#phase = "done";
    return this.#upstream.return();
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
  stage: (up, n, context) => new Catch(up, n, context),
};
