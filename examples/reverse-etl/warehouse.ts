/**
 * The warehouse the job extracts from. By default an embedded PostgreSQL
 * (PGlite) seeded with 20,000 users; with `DATABASE_URL`, a real PostgreSQL
 * server through `pg`. Rows are read a page at a time (keyset pagination on
 * PGlite, a server-side cursor on `pg`), never all at once.
 */
import { PGlite } from "@electric-sql/pglite";
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
  /** Ids of the users updated in `interval`: what the destination must hold after a run. */
  idsUpdatedIn(interval: Interval): Promise<number[]>;
  /**
   * Calls `listener` once if the connection fails (the server stopped, the
   * network dropped), instead of an unhandled `error` event crashing the process.
   */
  onFailure(listener: (error: Error) => void): void;
  close(): Promise<void>;
}

export const SEEDED_USERS = 20_000;

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

export async function openWarehouse(databaseUrl = process.env.DATABASE_URL): Promise<Warehouse> {
  return databaseUrl ? openPostgres(databaseUrl) : openPglite();
}

async function openPglite(): Promise<Warehouse> {
  const db = new PGlite();
  await db.exec(SEED_SQL);
  return {
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

async function openPostgres(url: string): Promise<Warehouse> {
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
  await client.query(SEED_SQL);
  return {
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
