import { isPromise } from "../internal/promise.js";
import { nameOf, show } from "../internal/show.js";
import { func, integer, options } from "../internal/validate.js";
import type { Clock } from "../internal/clock.js";
import {
  andThen,
  answer,
  element,
  OwnStop,
  PAUSED,
  Stage,
  STOPPED_HERE,
  withoutResume,
  type Drained,
  type Handler,
  type Operator,
  type Pulled,
  type RunContext,
  type Sink,
} from "../core/stage.js";
import { duration } from "../internal/duration.js";

/** What `observe` reports: how many elements and errors went by, and since when. */
export interface Observation {
  /** The `subject` given to `observe`: what is counted ("users", "user batches"). */
  readonly subject: string;
  /** Milliseconds since this iteration's first pull through `observe`. */
  readonly elapsed: number;
  readonly errors: number;
  readonly elements: number;
  /** One logfmt line: `observed="user batches" elapsed=1.503s errors=0 elements=2`. */
  toString(): string;
}

/** Options of `observe`. */
export interface ObserveOptions {
  /**
   * A number: report every `every` elements (and every `every` errors) instead of
   * at 1, 2, 4, 8, ... A duration string ("30s", "1m"): report when the iteration
   * starts and then at that period, whatever the counts (async iteration only).
   * Either way, a last report comes at the end.
   */
  readonly every?: number | `${number}${"ms" | "s" | "m" | "h"}`;
  /**
   * Receives each observation, instead of the default log line on stderr. Its
   * errors are ignored. In async iteration a returned promise is awaited; in sync
   * iteration it is not.
   */
  readonly do?: (observation: Observation) => unknown;
}

export interface ObserveNode {
  readonly op: "observe";
  readonly subject: string;
  /** Count between reports; undefined for the doubling schedule 1, 2, 4, 8, ... */
  readonly every: number | undefined;
  /** Milliseconds between periodic reports, when `every` is a duration. */
  readonly period: number | undefined;
  readonly periodAsWritten: string | undefined;
  readonly do: ((observation: Observation) => unknown) | undefined;
}

export function observeNode(subject: unknown, opts: unknown): ObserveNode {
  if (typeof subject !== "string") throw new TypeError(`\`subject\` must be a string, got ${show(subject)}`);
  const o = options<ObserveOptions>("observe", opts, ["every", "do"]);
  return Object.freeze({
    op: "observe",
    subject,
    every: o.every === undefined || typeof o.every === "string" ? undefined : integer("every", o.every, 1),
    period: typeof o.every === "string" ? duration("every", o.every) : undefined,
    periodAsWritten: typeof o.every === "string" ? o.every : undefined,
    do: o.do === undefined ? undefined : func<ObserveNode["do"] & Function>("do", o.do),
  });
}

/** A logfmt value: quoted when empty or when it holds a space, `=`, `"` or `\`. */
function logfmtValue(text: string): string {
  return text === "" || /[\s="\\]/.test(text) ? `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"` : text;
}

/** A duration as Go and logfmt readers write it: `850µs`, `12.5ms`, `3.021s`, `2m5.5s`, `1h0m3s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  const seconds = +((ms / 1000) % 60).toFixed(3);
  const minutes = Math.floor(ms / 60_000) % 60;
  const hours = Math.floor(ms / 3_600_000);
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function observation(subject: string, elapsed: number, errors: number, elements: number): Observation {
  return {
    subject,
    elapsed,
    errors,
    elements,
    toString: () =>
      `observed=${logfmtValue(subject)} elapsed=${formatDuration(elapsed)} errors=${errors} elements=${elements}`,
  };
}

/** The default `do`: one line on stderr, `2026-11-24T00:27:35Z INFO observed=users elapsed=1.2ms errors=0 elements=1`. */
function logObservation(o: Observation): void {
  console.error(`${new Date().toISOString().slice(0, 19)}Z INFO ${o}`);
}

/** When a count is due for a report: 1, 2, 4, 8, ... or 1, n, 2n, 3n, ...; never with a period. */
function isDue(count: number, node: ObserveNode): boolean {
  if (node.period !== undefined) return false;
  return node.every === undefined ? (count & (count - 1)) === 0 : count === 1 || count % node.every === 0;
}

/**
 * The counting and the schedule of one iteration, shared by both runners.
 * Each method returns the observation due, if any.
 */
class Observer {
  readonly #node: ObserveNode;
  readonly #clock: Clock;
  #start: number | undefined;
  #elements = 0;
  #errors = 0;
  /** Elements + errors at the last report. */
  #reported = 0;
  #ended = false;
  #ticker: AbortController | undefined;
  constructor(node: ObserveNode, clock: Clock) {
    this.#node = node;
    this.#clock = clock;
  }
  /** Called before each pull: the clock starts at the first one. */
  started(): void {
    this.#start ??= this.#clock.now();
  }
  /**
   * With a period: reports now (activation), then every period until `stop()`.
   * Each tick waits on the clock, so an abandoned or finished stream leaves no timer.
   */
  startTicking(signal: AbortSignal): void {
    if (this.#node.period === undefined || this.#ticker !== undefined) return;
    const ticker = (this.#ticker = new AbortController());
    const stop = () => ticker.abort();
    signal.addEventListener("abort", stop, { once: true });
    const period = this.#node.period;
    void (async () => {
      try {
        await this.emit(this.#report());
        for (;;) {
          // A report is no reason to stay alive: an iterator dropped without return() must not hold the process.
          await this.#clock.sleep(period, ticker.signal, { keepAlive: false });
          await this.emit(this.#report());
        }
      } catch {
        // stopped
      } finally {
        signal.removeEventListener("abort", stop);
      }
    })();
  }
  stopTicking(): void {
    this.#ticker?.abort();
  }
  element(): Observation | undefined {
    return isDue(++this.#elements, this.#node) ? this.#report() : undefined;
  }
  error(): Observation | undefined {
    return isDue(++this.#errors, this.#node) ? this.#report() : undefined;
  }
  /** The final report: when something went by since the last one, or nothing went by at all. */
  end(): Observation | undefined {
    if (this.#ended) return undefined;
    this.#ended = true;
    this.stopTicking();
    const total = this.#elements + this.#errors;
    return total > this.#reported || total === 0 ? this.#report() : undefined;
  }
  #report(): Observation {
    this.#reported = this.#elements + this.#errors;
    const elapsed = this.#clock.now() - (this.#start ?? this.#clock.now());
    return observation(this.#node.subject, elapsed, this.#errors, this.#elements);
  }
  /** Hands an observation to `do`; its errors (and rejections) are ignored. */
  emit(o: Observation | undefined): unknown {
    if (o === undefined) return undefined;
    try {
      const out = (this.#node.do ?? logObservation)(o);
      return isPromise(out) ? Promise.resolve(out).catch(() => {}) : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Passes every element and error through, counting them and reporting on its
 * schedule. Answers at once when upstream does and `do` returns no promise:
 * observing costs no promise per element. In async iteration a promise from
 * `do` is awaited before the element goes on; in sync iteration it is not.
 */
class Observe extends Stage implements Handler {
  readonly #upstream: Stage;
  readonly #observer: Observer;
  readonly #context: RunContext;
  readonly #own = new OwnStop();
  /** A promise from `do` is awaited in async iteration only. */
  readonly #awaitsDo: boolean;
  constructor(upstream: Stage, node: ObserveNode, context: RunContext) {
    super();
    this.#upstream = upstream;
    this.#observer = new Observer(node, context.clock);
    this.#context = context;
    this.#awaitsDo = context.mode === "async";
  }
  next(): Pulled {
    this.#start();
    return answer(this);
  }

  /**
   * Push mode: upstream hands the elements that are ready to `sink` through
   * the counter. When `do` returns a promise, the element waits for it as it
   * does in `next()`: upstream's loop stops there, and the element is the
   * answer once `do` settles.
   */
  override drain(sink: Sink): Drained {
    this.#start();
    const observer = this.#observer;
    const own = this.#own;
    own.reset();
    let waiting: { readonly value: unknown; readonly emitted: PromiseLike<unknown> } | undefined;
    let drained: Drained | typeof STOPPED_HERE;
    try {
      drained = own.answer(
        this.#upstream.drain((value) => {
          const emitted = this.#emit(observer.element());
          if (emitted === undefined) return sink(value);
          waiting = { value, emitted: emitted as PromiseLike<unknown> };
          return own.stop();
        }),
      );
    } catch (error) {
      return this.handleError(error);
    }
    if (drained === STOPPED_HERE) {
      const { value, emitted } = waiting!;
      return Promise.resolve(emitted).then(() => element(value));
    }
    if (drained === PAUSED) return PAUSED;
    const pulled = withoutResume(drained);
    if (!isPromise(pulled)) return this.handle(pulled);
    return pulled.then(
      (p) => this.handle(p),
      (error: unknown) => this.handleError(error),
    );
  }

  #start(): void {
    this.#observer.started();
    this.#observer.startTicking(this.#context.signal);
  }

  /** Reports `o`, if due; the promise of `do`, to await, only in async iteration. */
  #emit(o: Observation | undefined): unknown {
    if (o === undefined) return undefined;
    const emitted = this.#observer.emit(o);
    return this.#awaitsDo ? emitted : undefined;
  }

  pull(): Pulled {
    return this.#upstream.next();
  }
  handle(pulled: IteratorResult<unknown>): Pulled {
    const observer = this.#observer;
    const emitted = this.#emit(pulled.done ? observer.end() : observer.element());
    return emitted === undefined ? pulled : Promise.resolve(emitted).then(() => pulled); // no closure per element
  }
  handleError(error: unknown): never | Promise<never> {
    return andThen(this.#emit(this.#observer.error()), () => {
      throw error;
    });
  }

  return(): void | Promise<void> {
    this.#observer.stopTicking();
    return this.#upstream.return();
  }
}

export const observe: Operator<ObserveNode> = {
  explain: (n) => {
    const parts = [];
    if (n.every !== undefined) parts.push(`every: ${n.every}`);
    if (n.periodAsWritten !== undefined) parts.push(`every: ${JSON.stringify(n.periodAsWritten)}`);
    if (n.do) parts.push(`do: ${nameOf(n.do, "do")}`);
    return `observe(${JSON.stringify(n.subject)}${parts.length ? `, { ${parts.join(", ")} }` : ""})`;
  },
  asyncOnly: (n) => (n.period !== undefined ? `${observe.explain(n)} runs only in async iteration` : undefined),
  stage: (up, n, context) => new Observe(up, n, context),
};
