/**
 * The warehouse the job extracts from. By default an embedded PostgreSQL
 * (PGlite) seeded with 20,000 users; with `DATABASE_URL`, a real PostgreSQL
 * server through `pg`. Rows are read a page at a time (keyset pagination on
 * PGlite, a server-side cursor on `pg`), never all at once.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import Cursor from "pg-cursor";

export interface UserRow {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly updated_at: Date;
}

/** A half-open interval of update times, [from, to). */
export interface Interval {
  readonly from: Date;
  readonly to: Date;
}

export interface Warehouse {
  /** The users updated in `interval`, by id, read `pageSize` rows at a time. */
  usersUpdatedIn(interval: Interval, pageSize?: number): AsyncIterable<UserRow>;
  /**
   * The users updated in `interval` with `after < id <= to`, by id, a page at a
   * time (keyset pagination): a shard's rows after its cursor.
   */
  usersInRange(interval: Interval, range: IdRange, pageSize?: number): AsyncIterable<UserRow>;
  /** The users updated in `interval`, split by id into ranges of `size` users: a run's shards. */
  idRanges(interval: Interval, size: number): Promise<IdRange[]>;
  /** Ids of the users updated in `interval`: what the destination must hold after a run. */
  idsUpdatedIn(interval: Interval): Promise<number[]>;
  /**
   * Calls `listener` once if the connection fails (the server stopped, the
   * network dropped), instead of an unhandled `error` event crashing the process.
   */
  onFailure(listener: (error: Error) => void): void;
  close(): Promise<void>;
}

/** Ids `after < id <= to`. */
export interface IdRange {
  readonly after: number;
  readonly to: number;
}

export const SEEDED_USERS = 20_000;

/** PGlite's version (its package does not export its package.json): a copy is for the PGlite that wrote it. */
const PGLITE_VERSION = (JSON.parse(readFileSync(new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url), "utf8")) as { version: string }).version;

/** What both clients answer: PGlite's `query` and pg's. */
type Query = <R>(text: string, params: unknown[]) => Promise<{ rows: R[] }>;

/** The queries that read the same on both clients. */
function rangeQueries(query: Query): Pick<Warehouse, "usersInRange" | "idRanges"> {
  return {
    async *usersInRange({ from, to }, range, pageSize = 500) {
      for (let after = range.after; ; ) {
        const page = await query<UserRow>(
          `SELECT id, email, name, updated_at FROM users WHERE ${IN_INTERVAL} AND id > $3 AND id <= $4 ORDER BY id LIMIT $5`,
          [from, to, after, range.to, pageSize],
        );
        yield* page.rows;
        if (page.rows.length < pageSize) return;
        after = page.rows[page.rows.length - 1]!.id;
      }
    },
    async idRanges({ from, to }, size) {
      // Every size-th id closes a range; the last range ends at the last id.
      const { rows } = await query<{ id: number; n: string | number }>(
        `SELECT id, n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total FROM users WHERE ${IN_INTERVAL}) t
         WHERE n % $3 = 0 OR n = total ORDER BY id`,
        [from, to, size],
      );
      return rows.map((r, i) => ({ after: i === 0 ? 0 : rows[i - 1]!.id, to: r.id }));
    },
  };
}

/**
 * User i (1..20,000) was last updated at 2025-01-01 plus i * 26 minutes 17 s:
 * spread evenly over 2025, so any interval holds a known number of users.
 */
const SEED_SQL = `
  CREATE TABLE IF NOT EXISTS users (id integer PRIMARY KEY, email text NOT NULL, name text NOT NULL, updated_at timestamptz NOT NULL);
  CREATE INDEX IF NOT EXISTS users_updated_at ON users (updated_at);
  INSERT INTO users
    SELECT i, 'user' || i || '@example.com', 'User ' || i, timestamptz '2025-01-01 00:00:00+00' + i * interval '1577 seconds'
    FROM generate_series(1, ${SEEDED_USERS}) AS i
  ON CONFLICT (id) DO NOTHING;
`;

const IN_INTERVAL = "updated_at >= $1 AND updated_at < $2";

/**
 * Opens the warehouse at `databaseUrl` (embedded when there is none), seeding
 * it unless `seed` is false: processes that share a server leave the seeding
 * to one (concurrent seeds deadlock on the table's locks).
 */
export async function openWarehouse(databaseUrl = process.env.DATABASE_URL, { seed = true } = {}): Promise<Warehouse> {
  return databaseUrl ? openPostgres(databaseUrl, seed) : openPglite();
}

/**
 * Where the seeded embedded database is kept between runs: starting PGlite
 * from a copy of its seeded data takes about 1 s, against about 4 s to
 * initialise and seed it (and 13 s on a busy machine). The name holds what
 * the copy depends on, so a change of PGlite or of the seed makes a new one.
 */
function seededCopyPath(): string {
  const key = createHash("sha256").update(`${PGLITE_VERSION}\n${SEED_SQL}`).digest("hex").slice(0, 16);
  return fileURLToPath(new URL(`../../node_modules/.cache/streamable-ts-demo/warehouse-${key}.tar.gz`, import.meta.url));
}

/** Whether the embedded warehouse will start from its seeded copy (fast) or be seeded now. */
export function hasSeededCopy(): boolean {
  return existsSync(seededCopyPath());
}

async function openPglite(): Promise<Warehouse> {
  const { PGlite } = await import("@electric-sql/pglite"); // loaded only when it is used (not with DATABASE_URL)
  const copy = seededCopyPath();
  let db: PGlite;
  if (existsSync(copy)) {
    // The copy was written after this very seed (its name holds the seed's digest): nothing to run.
    db = new PGlite({ loadDataDir: new Blob([readFileSync(copy)]) });
    await db.waitReady;
  } else {
    db = new PGlite();
    await db.exec(SEED_SQL);
    // Kept for the next run; a copy that cannot be written (a read-only folder) only costs the next run its time.
    try {
      const dump = await db.dumpDataDir("gzip");
      mkdirSync(dirname(copy), { recursive: true });
      writeFileSync(`${copy}.tmp`, Buffer.from(await dump.arrayBuffer()));
      renameSync(`${copy}.tmp`, copy);
    } catch {}
  }
  return {
    ...rangeQueries((text, params) => db.query(text, params)),
    async *usersUpdatedIn({ from, to }, pageSize = 500) {
      // Keyset pagination: each page starts after the last id seen.
      for (let after = 0; ; ) {
        const page = await db.query<UserRow>(
          `SELECT id, email, name, updated_at FROM users WHERE ${IN_INTERVAL} AND id > $3 ORDER BY id LIMIT $4`,
          [from, to, after, pageSize],
        );
        yield* page.rows;
        if (page.rows.length < pageSize) return;
        after = page.rows[page.rows.length - 1]!.id;
      }
    },
    async idsUpdatedIn({ from, to }) {
      return (await db.query<{ id: number }>(`SELECT id FROM users WHERE ${IN_INTERVAL} ORDER BY id`, [from, to])).rows.map((r) => r.id);
    },
    onFailure: () => {}, // in this process: it cannot fail apart from it
    close: () => db.close(),
  };
}

async function openPostgres(url: string, seed: boolean): Promise<Warehouse> {
  const client = new pg.Client({ connectionString: url });
  // A connection lost mid-run is an `error` event on the client: without a listener it would crash the process.
  let failure: Error | undefined;
  const listeners: ((error: Error) => void)[] = [];
  client.on("error", (error) => {
    if (failure) return;
    failure = error;
    for (const listener of listeners.splice(0)) listener(error);
  });
  await client.connect();
  if (seed) await client.query(SEED_SQL);
  return {
    ...rangeQueries(async <R,>(text: string, params: unknown[]) => (await client.query(text, params)) as unknown as { rows: R[] }),
    async *usersUpdatedIn({ from, to }, pageSize = 500) {
      // A server-side cursor: the server keeps the result, the job reads a page at a time.
      const cursor = client.query(new Cursor<UserRow>(`SELECT id, email, name, updated_at FROM users WHERE ${IN_INTERVAL} ORDER BY id`, [from, to]));
      try {
        for (let page = await cursor.read(pageSize); page.length > 0; page = await cursor.read(pageSize)) yield* page;
      } finally {
        // A dead connection answers no Close: closing the cursor then would wait forever.
        if (!failure) await cursor.close();
      }
    },
    async idsUpdatedIn({ from, to }) {
      return (await client.query<{ id: number }>(`SELECT id FROM users WHERE ${IN_INTERVAL} ORDER BY id`, [from, to])).rows.map((r) => r.id);
    },
    onFailure: (listener) => (failure ? listener(failure) : void listeners.push(listener)),
    close: () => (failure ? Promise.resolve() : client.end()),
  };
}
