/**
 * `streamable-ts/workers`: CPU-heavy steps on worker threads. A pool you own
 * runs the exports of one module on up to `threads` threads, and `pool.fn(name)`
 * is an ordinary async function for `map`, `do`, `retry`, `catch`, `observe` and
 * `explain`. Built on `node:worker_threads` alone: no dependency.
 */
import { availableParallelism } from "node:os";
import { Worker, type Transferable } from "node:worker_threads";

/** Options of {@link workerPool}. */
export interface WorkerPoolOptions {
  /** Threads at most, started as tasks come. @default availableParallelism() - 1, at least 1 */
  readonly threads?: number;
  /** Milliseconds a thread may stay idle before it exits (it starts again when work comes). @default 30_000 */
  readonly idleTimeout?: number;
  /**
   * What a running task does when its call's `signal` aborts (the stream stopped
   * early): `"finish"`, it runs to its end and its result is dropped; `"terminate"`,
   * its thread is killed at once and the call rejects with the signal's reason.
   * A task still queued is dropped either way. @default "finish"
   */
  readonly onStop?: "finish" | "terminate";
}

/** Options of {@link WorkerPool.fn}. */
export interface WorkerFnOptions<A> {
  /** The buffers to move to the thread instead of copying them (they become unusable here). */
  readonly transfer?: (value: A) => readonly Transferable[];
}

/** The names of `M`'s exports that are functions. */
export type ExportedFunction<M> = { [K in keyof M & string]: M[K] extends (...args: never[]) => unknown ? K : never }[keyof M & string];
type ArgumentOf<F> = F extends (value: infer A, ...rest: never[]) => unknown ? A : never;
type ResultOf<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** A function that runs on the pool's threads: `(value, { signal }) => Promise<result>`. */
export type WorkerFn<A, R> = (value: A, options?: { readonly signal?: AbortSignal }) => Promise<R>;

/** A pool of worker threads running the exports of one module; close it (`await using`, or `close()`). */
export interface WorkerPool<M> extends AsyncDisposable {
  /**
   * The export `name` as an async function whose calls run on the pool's
   * threads. Its name reads `name@module.js` in `explain()`.
   * @throws TypeError if the module has no function exported as `name`.
   */
  fn<K extends ExportedFunction<M>>(name: K, options?: WorkerFnOptions<ArgumentOf<M[K]>>): WorkerFn<ArgumentOf<M[K]>, ResultOf<M[K]>>;
  /** Threads at most. */
  readonly threads: number;
  /** Threads running now (they start as tasks come and exit once idle). */
  readonly threadsStarted: number;
  /** Terminates every thread; queued and running calls reject. Settles once every thread has exited. */
  close(): Promise<void>;
}

/**
 * The worker side: loads the module, says which exports are functions, runs
 * one call at a time. Written with dynamic imports only, so it runs whether
 * the thread reads it as a script or as a module (`--input-type=module`). Node
 * 20 cannot load TypeScript, and tsx's hooks do not reach worker threads: for a
 * `.ts` module, the thread registers tsx (the project's, from the working
 * directory) first.
 */
const THREAD = `
const describe = (error) =>
  error instanceof Error
    ? { name: error.name, className: error.constructor && error.constructor.name, message: error.message, stack: error.stack }
    : { name: "Error", className: "Error", message: String(error) };
const load = async (url) => {
  if (/\\.[cm]?ts$/.test(new URL(url).pathname)) {
    let tsx;
    try {
      tsx = await import("tsx/esm/api"); // found from the working directory: the project being run
    } catch {
      // no tsx: a Node.js that strips types may still load it; if not, the error says what to do
    }
    tsx?.register();
    try {
      return await import(url);
    } catch (error) {
      if (tsx !== undefined || error.code !== "ERR_UNKNOWN_FILE_EXTENSION") throw error;
      throw new Error("a TypeScript worker module needs tsx in the project (npm install -D tsx), or compile it to JavaScript");
    }
  }
  return import(url);
};
import("node:worker_threads").then(({ parentPort, workerData }) =>
  load(workerData.url).then(
    (module) => {
      const exports = Object.keys(module).filter((key) => typeof module[key] === "function");
      parentPort.postMessage({ kind: "ready", exports });
      parentPort.on("message", async ({ id, name, value }) => {
        try {
          const result = await module[name](value);
          parentPort.postMessage({ kind: "result", id, ok: true, value: result });
        } catch (error) {
          parentPort.postMessage({ kind: "result", id, ok: false, error: describe(error) });
        }
      });
    },
    (error) => parentPort.postMessage({ kind: "failed", error: describe(error) }),
  ),
);
`;

interface Described {
  readonly name: string;
  readonly className?: string;
  readonly message: string;
  readonly stack?: string;
}

type Message =
  | { readonly kind: "ready"; readonly exports: readonly string[] }
  | { readonly kind: "failed"; readonly error: Described }
  | { readonly kind: "result"; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: "result"; readonly id: number; readonly ok: false; readonly error: Described };

const BUILT_IN_ERRORS: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/**
 * An error thrown on a thread, as the caller gets it: a built-in class stays
 * itself (a `TypeError` is one here too, for `catch(TypeError)`); another class
 * is an Error whose `name` is that class's. Message and stack are the thread's.
 */
function errorFrom(described: Described): Error {
  const Class = BUILT_IN_ERRORS[described.className ?? ""] ?? Error;
  const error = new Class(described.message);
  if (Class === Error && described.className && described.className !== "Error") error.name = described.className;
  else if (described.name !== error.name) error.name = described.name;
  if (described.stack !== undefined) error.stack = described.stack;
  return error;
}

/** One call: queued, then running on a thread. */
interface Task {
  readonly id: number;
  readonly name: string;
  readonly value: unknown;
  readonly transfer: readonly Transferable[];
  readonly signal: AbortSignal | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  onAbort: (() => void) | undefined;
  thread: Thread | undefined;
}

/** A worker thread and the one task it runs, if any. */
interface Thread {
  readonly worker: Worker;
  task: Task | undefined;
  idle: ReturnType<typeof setTimeout> | undefined;
  /** Exited, or being terminated: takes no more tasks. */
  gone: boolean;
}

function describeModule(url: URL): string {
  return url.pathname.slice(url.pathname.lastIndexOf("/") + 1) || url.href;
}

class Pool<M> implements WorkerPool<M> {
  readonly threads: number;
  readonly #url: URL;
  readonly #moduleName: string;
  readonly #idleTimeout: number;
  readonly #terminateOnStop: boolean;
  readonly #exports: ReadonlySet<string>;
  readonly #running = new Set<Thread>();
  readonly #queue: Task[] = [];
  #nextId = 0;
  #closed: Promise<void> | undefined;

  constructor(url: URL, exports: readonly string[], first: Thread, o: Required<WorkerPoolOptions>) {
    this.#url = url;
    this.#moduleName = describeModule(url);
    this.#exports = new Set(exports);
    this.threads = o.threads;
    this.#idleTimeout = o.idleTimeout;
    this.#terminateOnStop = o.onStop === "terminate";
    this.#adopt(first);
  }

  get threadsStarted(): number {
    return this.#running.size;
  }

  fn<K extends ExportedFunction<M>>(name: K, options: WorkerFnOptions<ArgumentOf<M[K]>> = {}): WorkerFn<ArgumentOf<M[K]>, ResultOf<M[K]>> {
    if (typeof name !== "string" || !this.#exports.has(name)) {
      const known = [...this.#exports].map((e) => JSON.stringify(e)).join(", ") || "none";
      throw new TypeError(`${this.#moduleName} has no function exported as ${JSON.stringify(name)}; its exported functions: ${known}`);
    }
    if (options.transfer !== undefined && typeof options.transfer !== "function") {
      throw new TypeError("`transfer` must be a function of the value that returns the buffers to move");
    }
    const transfer = options.transfer as ((value: unknown) => readonly Transferable[]) | undefined;
    const call = (value: unknown, callOptions?: { readonly signal?: AbortSignal }) => this.#run(name, value, transfer?.(value) ?? [], callOptions?.signal);
    Object.defineProperty(call, "name", { value: `${name}@${this.#moduleName}` });
    return call as WorkerFn<ArgumentOf<M[K]>, ResultOf<M[K]>>;
  }

  #run(name: string, value: unknown, transfer: readonly Transferable[], signal: AbortSignal | undefined): Promise<unknown> {
    if (this.#closed !== undefined) return Promise.reject(this.#closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const task: Task = { id: this.#nextId++, name, value, transfer, signal, resolve, reject, onAbort: undefined, thread: undefined };
      if (signal !== undefined) {
        task.onAbort = () => this.#abort(task);
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  /** Starts queued tasks on idle threads, and starts threads while there are fewer than `threads`. */
  #dispatch(): void {
    while (this.#queue.length > 0 && this.#closed === undefined) {
      let thread: Thread | undefined;
      for (const t of this.#running) if (t.task === undefined && !t.gone) thread = t;
      if (thread === undefined) {
        if (this.#running.size >= this.threads) return;
        thread = this.#adopt(spawn(this.#url));
      }
      this.#start(thread, this.#queue.shift()!);
    }
  }

  #start(thread: Thread, task: Task): void {
    clearTimeout(thread.idle);
    thread.idle = undefined;
    thread.task = task;
    task.thread = thread;
    thread.worker.ref(); // a running task keeps the process alive; an idle thread does not
    try {
      thread.worker.postMessage({ id: task.id, name: task.name, value: task.value }, task.transfer as Transferable[]);
    } catch (error) {
      // The argument cannot cross to a thread (a function, a class instance with private state...).
      this.#settle(task, false, new TypeError(`the argument of ${task.name}@${this.#moduleName} cannot be sent to a worker thread: ${(error as Error).message}`));
      this.#idle(thread);
    }
  }

  /** Takes `thread` into the pool: its answers settle its task, its exit replaces it. */
  #adopt(thread: Thread): Thread {
    this.#running.add(thread);
    thread.worker.on("message", (message: Message) => {
      if (message.kind !== "result") return;
      const task = thread.task;
      if (task === undefined || task.id !== message.id) return;
      this.#settle(task, message.ok, message.ok ? message.value : errorFrom(message.error));
      this.#idle(thread);
      this.#dispatch();
    });
    thread.worker.on("error", () => {}); // an uncaught error on the thread: its exit says what it cost
    thread.worker.on("exit", (code) => {
      thread.gone = true;
      clearTimeout(thread.idle);
      this.#running.delete(thread);
      const task = thread.task;
      thread.task = undefined;
      if (task !== undefined) {
        this.#settle(task, false, new Error(`the worker thread running ${task.name}@${this.#moduleName} exited with code ${code}`));
      }
      this.#dispatch();
    });
    if (thread.task === undefined) this.#idle(thread);
    return thread;
  }

  /** A thread with no task: it no longer holds the process, and exits after `idleTimeout`. */
  #idle(thread: Thread): void {
    thread.task = undefined;
    if (thread.gone) return;
    thread.worker.unref();
    clearTimeout(thread.idle);
    thread.idle = setTimeout(() => this.#terminate(thread), this.#idleTimeout);
    thread.idle.unref();
  }

  /** Ends `thread` (its exit event then settles what it ran); once, however many ask. */
  #terminate(thread: Thread): void {
    if (thread.gone) return;
    thread.gone = true;
    clearTimeout(thread.idle);
    void thread.worker.terminate();
  }

  #closedError(): Error {
    return new Error(`the worker pool of ${this.#moduleName} is closed`);
  }

  /** The task's signal aborted: dropped when queued; when running, terminated or left to finish. */
  #abort(task: Task): void {
    const reason = task.signal!.reason;
    const queued = this.#queue.indexOf(task);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      return this.#settle(task, false, reason);
    }
    const thread = task.thread;
    if (thread === undefined || thread.task !== task || !this.#terminateOnStop) return;
    thread.task = undefined;
    this.#terminate(thread);
    this.#settle(task, false, reason);
  }

  #settle(task: Task, ok: boolean, value: unknown): void {
    if (task.onAbort !== undefined) task.signal!.removeEventListener("abort", task.onAbort);
    task.thread = undefined;
    if (ok) task.resolve(value);
    else task.reject(value);
  }

  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    const error = this.#closedError();
    for (const task of this.#queue.splice(0)) this.#settle(task, false, error);
    const exits = [...this.#running].map((thread) => {
      const exited = new Promise<void>((resolve) => thread.worker.once("exit", () => resolve()));
      this.#terminate(thread);
      return exited;
    });
    return (this.#closed = Promise.all(exits).then(() => undefined));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A new thread loading the module at `url`. */
function spawn(url: URL): Thread {
  return { worker: new Worker(THREAD, { eval: true, workerData: { url: url.href } }), task: undefined, idle: undefined, gone: false };
}

function moduleUrl(module: unknown): URL {
  if (module instanceof URL) return module;
  if (typeof module === "string") {
    try {
      return new URL(module);
    } catch {
      // not a URL: the message below
    }
  }
  throw new TypeError(`\`module\` must be a URL of the worker module, such as new URL("./enrich.worker.js", import.meta.url), got ${typeof module === "string" ? JSON.stringify(module) : String(module)}`);
}

function threadsOption(threads: unknown): number {
  if (threads === undefined) return Math.max(1, availableParallelism() - 1);
  if (typeof threads !== "number" || !Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`\`threads\` must be an integer >= 1, got ${String(threads)}`);
  }
  return threads;
}

/**
 * A pool of worker threads for the module at `module` (a file URL), ready once
 * the module has loaded on its first thread: its exported functions are known
 * then, so `pool.fn(name)` checks `name` at once. Modules written in TypeScript
 * load under tsx in development, as the main thread's modules do.
 *
 * @throws TypeError (rejects) when the module cannot be loaded; RangeError for bad options.
 * @example CPU-heavy batches on two threads
 * ```text
 * import { workerPool } from "streamable-ts/workers";
 * await using pool = await workerPool<typeof import("./enrich.worker.js")>(new URL("./enrich.worker.js", import.meta.url), { threads: 2 });
 * await stream(rows).group(100).map(pool.fn("enrichBatch"), { concurrency: 2 }).run();
 * ```
 */
export async function workerPool<M = Record<string, (value: never) => unknown>>(module: URL | string, options: WorkerPoolOptions = {}): Promise<WorkerPool<M>> {
  const url = moduleUrl(module);
  if (options === null || typeof options !== "object") throw new TypeError(`\`options\` must be an object, got ${String(options)}`);
  for (const key of Object.keys(options)) {
    if (!["threads", "idleTimeout", "onStop"].includes(key)) throw new TypeError(`\`workerPool\` has no option \`${key}\``);
  }
  const threads = threadsOption(options.threads);
  const idleTimeout = options.idleTimeout ?? 30_000;
  if (typeof idleTimeout !== "number" || !(idleTimeout >= 0) || idleTimeout > 2 ** 31 - 1) {
    throw new RangeError(`\`idleTimeout\` must be milliseconds from 0 to 2^31-1, got ${String(idleTimeout)}`);
  }
  const onStop = options.onStop ?? "finish";
  if (onStop !== "finish" && onStop !== "terminate") throw new TypeError(`\`onStop\` must be "finish" or "terminate", got ${String(onStop)}`);
  const first = spawn(url);
  const worker = first.worker;
  let onMessage: (message: Message) => void = () => {};
  let onError: (error: Error) => void = () => {};
  let onExit: (code: number) => void = () => {};
  const exports = await new Promise<readonly string[]>((resolve, reject) => {
    const failed = (error: Error) => reject(new TypeError(`the worker module ${url.href} could not be loaded: ${error.message}`, { cause: error }));
    onMessage = (message) => {
      if (message.kind === "ready") resolve(message.exports);
      else if (message.kind === "failed") failed(errorFrom(message.error));
    };
    onError = failed;
    onExit = (code) => failed(new Error(`its thread exited with code ${code}`));
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  // Only ours: the worker's own listeners start and stop its message port.
  worker.off("message", onMessage).off("error", onError).off("exit", onExit);
  return new Pool<M>(url, exports, first, { threads, idleTimeout, onStop });
}
