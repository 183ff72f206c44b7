/**
 * The third-party API the job loads into: a real HTTP server on 127.0.0.1 that
 * behaves like a strict SaaS endpoint. It requires a bearer token (401), allows
 * `rate` requests in any sliding second (429 with Retry-After beyond that), fails
 * about `failRate` of the calls with a 503 before processing them, and records
 * every user it accepted, so a run can be checked for loss and duplicates. A
 * request with an `Idempotency-Key` it has accepted before is answered as it
 * was then and recorded as re-sent, not again (the exactly-once effect).
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Worker } from "node:worker_threads";
import type { AddressInfo } from "node:net";
import type { Clock } from "streamable-ts";
import { systemClock } from "streamable-ts";

export interface ApiOptions {
  /** Requests allowed in any sliding second. */
  readonly rate: number;
  /** Share of calls answered 503 (0 to 1). */
  readonly failRate: number;
  readonly token: string;
  readonly clock?: Clock;
  /** Where the 503s come from; `Math.random` by default. */
  readonly random?: () => number;
  /** How long the API takes to answer an accepted batch, in ms: a fixed number, or [least, most] drawn at random. @default 0 */
  readonly latencyMs?: number | readonly [number, number];
  /** The largest request body taken, in bytes; a larger one is answered 413 without being read whole. @default MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
}

/** The default body limit: 1 MiB, about 100 batches of 100 users. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A request the API refuses with a status and a short reason. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Whether the `Authorization` header carries `token`, compared in constant time. */
function hasToken(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The body as text, refused with 413 as soon as it passes `limit` bytes (it is never buffered whole). */
async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) throw new Refused(413, `body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Refused(413, `body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The users of a batch, all checked before any is recorded: a bad batch records nothing. */
function parseBatch(body: string): { id: number }[] {
  let batch: unknown;
  try {
    batch = JSON.parse(body);
  } catch {
    throw new Refused(400, "the body is not JSON");
  }
  if (!Array.isArray(batch)) throw new Refused(400, "the body must be a JSON array of users");
  batch.forEach((user: unknown, i) => {
    const id = (user as { id?: unknown } | null)?.id;
    if (user === null || typeof user !== "object" || typeof id !== "number" || !Number.isSafeInteger(id)) {
      throw new Refused(400, `user ${i} has no integer \`id\``);
    }
  });
  return batch as { id: number }[];
}

export interface ApiLog {
  /** Arrival times (ms, on the API's clock) of the requests that counted against the rate limit. */
  readonly requests: number[];
  /** How many times each user id was accepted. */
  readonly received: Map<number, number>;
  statuses: Record<number, number>;
  /** Batches sent again with an `Idempotency-Key` accepted before: answered, not recorded again. */
  resent: number;
  /** The `Idempotency-Key`s taken, in order. */
  readonly keys: string[];
}

export interface Api {
  readonly url: string;
  /** What the API saw so far. */
  snapshot(): Promise<ApiLog>;
  close(): Promise<void>;
  /** Stops the API at once, as a crash would (its worker's thread only). */
  kill?(): Promise<void>;
  /** From now on, takes requests and never answers them, as a stuck server does. */
  hang(): Promise<void>;
}

export async function startApi(options: ApiOptions): Promise<Api> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log: ApiLog = { requests: [], received: new Map(), statuses: {}, resent: 0, keys: [] };
  /** The idempotency keys of the batches taken (or being taken). */
  const keys = new Set<string>();

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    log.statuses[status] = (log.statuses[status] ?? 0) + 1;
    res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
  };

  let hanging = false;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (hanging) return; // the request stays open, unanswered
    if (req.method !== "POST" || req.url !== "/users") return reply(res, 404, { error: "not found" });
    if (!hasToken(req.headers.authorization, options.token)) return reply(res, 401, { error: "missing or bad bearer token" });
    const now = clock.now();
    const recent = log.requests.filter((t) => t > now - 1000);
    if (recent.length >= options.rate) {
      const retryAfter = Math.max(1, Math.ceil((recent[0]! + 1000 - now) / 1000));
      return reply(res, 429, { error: "rate limit exceeded" }, { "Retry-After": String(retryAfter) });
    }
    log.requests.push(now);
    if (random() < options.failRate) return reply(res, 503, { error: "temporarily unavailable" });
    const key = req.headers["idempotency-key"];
    if (typeof key === "string" && keys.has(key)) {
      log.resent++;
      return reply(res, 201, { replayed: true });
    }
    const users = parseBatch(await readBody(req, options.maxBodyBytes ?? MAX_BODY_BYTES));
    if (typeof key === "string") keys.add(key), log.keys.push(key);
    const latency = options.latencyMs ?? 0;
    const wait = typeof latency === "number" ? latency : latency[0] + random() * (latency[1] - latency[0]);
    if (wait > 0) await clock.sleep(wait);
    for (const user of users) log.received.set(user.id, (log.received.get(user.id) ?? 0) + 1);
    reply(res, 201, { received: users.length });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof Refused) {
        // A refused upload is not read to its end: the answer closes the connection.
        reply(res, error.status, { error: error.message }, error.status === 413 ? { Connection: "close" } : {});
        if (error.status === 413) res.once("finish", () => req.destroy());
      } else reply(res, 500, { error: "internal error" }); // no internal text to the caller
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    snapshot: async () => log,
    hang: async () => void (hanging = true),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Starts the API on its own thread, as a real third-party API runs on its own
 * machine: the job's work on the main thread cannot delay how the API measures
 * the arrival of requests against its rate limit.
 */
export async function startApiWorker(options: Omit<ApiOptions, "clock" | "random">): Promise<Api> {
  // The worker loads this example's TypeScript as the main thread does, through tsx.
  const entry = new URL("./api-worker.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: options });
  // A worker that dies (killed, crashed) fails every question asked of it, now and later: nothing waits forever.
  let gone: Error | undefined;
  worker.once("exit", (code) => (gone ??= new Error(`the API's worker exited (code ${code})`)));
  const ask = <T>(request: string): Promise<T> =>
    new Promise((resolve, reject) => {
      if (gone) return reject(gone);
      const cleanup = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      const onMessage = (message: { reply: string; value: T }) => {
        if (message.reply !== request) return;
        cleanup();
        resolve(message.value);
      };
      const onError = (error: Error) => (cleanup(), reject(error));
      const onExit = (code: number) => (cleanup(), reject(gone ?? new Error(`the API's worker exited (code ${code})`)));
      worker.on("message", onMessage);
      worker.once("error", onError);
      worker.once("exit", onExit);
      if (request !== "url") worker.postMessage(request);
    });
  const url = await ask<string>("url");
  return {
    url,
    snapshot: async () => {
      const log = await ask<Omit<ApiLog, "received"> & { received: [number, number][] }>("snapshot");
      return { ...log, received: new Map(log.received) };
    },
    close: async () => {
      if (!gone) await ask("close").catch(() => {});
      await worker.terminate();
    },
    kill: async () => {
      await worker.terminate();
    },
    hang: () => ask<void>("hang"),
  };
}
