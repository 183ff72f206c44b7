/**
 * The reference reverse-ETL job: users updated in an interval, from the
 * warehouse to a third-party API, in batches of 100, within the API's rate
 * limit, three calls at a time, retrying what fails for a passing reason.
 */
import { createHash } from "node:crypto";
import { stream, throttling, type Clock, type Observation, type ObserveOptions, type Stream, type ThrottleStore } from "streamable-ts";
import type { Interval, UserRow, Warehouse } from "./warehouse.js";

export interface JobOptions {
  readonly warehouse: Warehouse;
  readonly interval: Interval;
  readonly apiUrl: string;
  readonly token: string;
  /** The API's limit: requests per second. */
  readonly rate: number;
  readonly concurrency: number;
  /** Deadline of one API call in ms, after which it is aborted and retried. @default 10_000 */
  readonly timeout?: number;
  readonly clock?: Clock;
  /** Where the API's quota is kept: this process by default; a shared store (Redis) when processes share it. */
  readonly store?: ThrottleStore;
  /** Rows to load instead of reading the interval from the warehouse (a share handed to this process). */
  readonly rows?: AsyncIterable<UserRow> | Iterable<UserRow>;
  /** Where progress lines go; stderr by default. */
  readonly log?: (observation: Observation) => void;
  /** The options of every `observe` (a live progress display's), instead of `log`. */
  readonly observe?: ObserveOptions & { readonly every?: number };
}

export interface JobStats {
  usersRead: number;
  batchesPosted: number;
  retries: number;
  tooManyRequests: number;
}

export interface User {
  readonly id: number;
  readonly email: string;
  readonly name: string;
}

/** An HTTP answer that is not a success. */
export class HttpError extends Error {
  constructor(readonly response: Response) {
    super(`HTTP ${response.status} ${response.statusText}`);
  }
}

/** Worth retrying: the API said "later" (429, 5xx), or the network failed on the way. */
export const isTransient = (error: unknown) => !(error instanceof HttpError) || error.response.status === 429 || error.response.status >= 500;

export function raiseForStatus(response: Response): void {
  if (!response.ok) throw new HttpError(response);
}

/**
 * The batch's idempotency key: a digest of its users' ids, so the same rows
 * make the same key, also when a resumed shard regroups them after its cursor.
 */
export function batchKey(users: readonly User[]): string {
  return createHash("sha256").update(users.map((u) => u.id).join(",")).digest("base64url").slice(0, 32);
}

/** The API's side of the job: where it posts, with which token, under which quota. */
export type ApiAccess = Pick<JobOptions, "apiUrl" | "token" | "rate" | "clock" | "store">;

/**
 * POSTs a batch of users, under the API's quota. A 429 or a 5xx throws (to be
 * retried); a 4xx is returned for `raiseForStatus`. Every call counts against
 * the API's limit, retries included: a call holds its place until a second
 * after it settles (from: "settled", the default), so the API never sees more
 * than `rate` in a second, whatever the trip takes.
 */
export function usersPoster({ apiUrl, token, rate, clock, store }: ApiAccess, stats: Pick<JobStats, "tooManyRequests">) {
  async function post(users: User[], { signal }: { signal: AbortSignal }): Promise<Response> {
    const response = await fetch(`${apiUrl}/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": batchKey(users) },
      body: JSON.stringify(users),
      signal,
    });
    if (response.status === 429) stats.tooManyRequests++;
    if (isTransient(new HttpError(response))) throw new HttpError(response); // retried
    return response; // a 4xx is for raiseForStatus: retrying will not fix it
  }
  return throttling(post, store ? { upTo: rate, per: "1s", clock, store, key: "demo-api" } : { upTo: rate, per: "1s", clock });
}

export const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, name: row.name });

/** Builds the job; nothing runs until it is iterated. */
export function reverseEtl(options: JobOptions, stats: JobStats): Stream<Response> {
  const { warehouse, interval, concurrency, timeout = 10_000, rows, log } = options;
  const postUsers = usersPoster(options, stats);
  const countRead = () => void stats.usersRead++;
  const countPosted = () => void stats.batchesPosted++;
  const countRetry = () => void stats.retries++;
  const observe = options.observe ?? (log && { do: log });

  return stream<UserRow>(rows ?? warehouse.usersUpdatedIn(interval, 250))
    .do(countRead)
    .map(toUser)
    .observe("users", observe)
    .group(100)
    .observe("user batches", observe)
    // A call that hangs (an API that accepts and never answers) times out and is retried: the job always ends.
    .map(postUsers, { concurrency, timeout, retry: { attempts: 6, where: isTransient, onRetry: countRetry } })
    .do(raiseForStatus)
    .do(countPosted)
    .observe("integrated user batches", observe)
    .catch(Error, { finallyThrow: true });
}
