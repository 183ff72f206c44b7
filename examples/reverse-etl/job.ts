/**
 * The reference reverse-ETL job: users updated in an interval, from the
 * warehouse to a third-party API, in batches of 100, within the API's rate
 * limit, three calls at a time, retrying what fails for a passing reason.
 */
import { stream, throttling, type Clock, type Observation, type Stream, type ThrottleStore } from "streamable-ts";
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
}

export interface JobStats {
  usersRead: number;
  batchesPosted: number;
  retries: number;
  tooManyRequests: number;
}

interface User {
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
const isTransient = (error: unknown) => !(error instanceof HttpError) || error.response.status === 429 || error.response.status >= 500;

function raiseForStatus(response: Response): void {
  if (!response.ok) throw new HttpError(response);
}

/** Builds the job; nothing runs until it is iterated. */
export function reverseEtl(options: JobOptions, stats: JobStats): Stream<Response> {
  const { warehouse, interval, apiUrl, token, rate, concurrency, timeout = 10_000, clock, store, rows, log } = options;

  async function post(users: User[], { signal }: { signal: AbortSignal }): Promise<Response> {
    const response = await fetch(`${apiUrl}/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(users),
      signal,
    });
    if (response.status === 429) stats.tooManyRequests++;
    if (isTransient(new HttpError(response))) throw new HttpError(response); // retried
    return response; // a 4xx is for raiseForStatus: retrying will not fix it
  }
  // Every call counts against the API's limit, retries included. A call holds its place until a second after
  // it settles (from: "settled", the default), so the API never sees more than `rate` in a second, whatever the trip takes.
  const postUsers = throttling(post, store ? { upTo: rate, per: "1s", clock, store, key: "demo-api" } : { upTo: rate, per: "1s", clock });
  const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, name: row.name });
  const countRead = () => void stats.usersRead++;
  const countPosted = () => void stats.batchesPosted++;
  const countRetry = () => void stats.retries++;
  const observe = log && { do: log };

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
