/**
 * The processes of `npm run bench:job` (bench/job.ts starts them):
 *
 * - `--api`: the destination, a local HTTP API that answers every batch at once with 200 and counts
 *   the users it received and the sum of their ids, so that a contestant that loses or repeats a
 *   row fails the run. It runs in a process of its own, so its CPU is not the job's.
 * - `--contestant <name>`: one run of the reference job, written one way, in a fresh process: rows
 *   read from PostgreSQL through a server-side cursor, mapped, grouped by 100 and POSTed 16 at a
 *   time. It prints one JSON line: wall time, CPU, and the resident set size over the run.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import Cursor from "pg-cursor";
import pMap from "p-map";
import { stream, type Stream } from "streamable-ts";

export const CONTESTANTS = [
  "streamable-ts, pages + flatten",
  "streamable-ts, a row at a time",
  "p-map + a hand-written batcher",
  "16 hand-written workers on the cursor's pages",
] as const;
export type ContestantName = (typeof CONTESTANTS)[number];

export interface JobRun {
  readonly name: string;
  readonly rows: number;
  readonly wallMs: number;
  /** CPU time of the job's process during the run (user + system), in ms. */
  readonly cpuMs: number;
  /**
   * The resident set size when the first 100,000 rows were read and when a tenth of them were, and
   * the most it reached after each, in bytes (sampled every 100 ms).
   */
  readonly rssAt100k: number;
  readonly rssPeakAfter100k: number;
  readonly rssAtTenth: number;
  readonly rssPeakAfterTenth: number;
}

export interface ApiStats {
  readonly requests: number;
  readonly rows: number;
  readonly idSum: number;
}

const CONCURRENCY = 16;
const BATCH = 100;
const PAGE = 1000;
export const QUERY = "SELECT id, email, name, updated_at FROM bench_users";

interface Row {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly updated_at: Date;
}
interface User {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly updatedAt: string;
}

/** What every contestant does to a row, counting it for the RSS samples. */
let rowsRead = 0;
const toUser = (row: Row): User => {
  rowsRead++;
  return { id: row.id, email: row.email, name: row.name, updatedAt: row.updated_at.toISOString() };
};

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`the API answered ${status}`);
  }
}

/** POSTs a batch and reads the answer whole, so the connection goes back to the pool. */
function poster(apiUrl: string) {
  return async function post(users: readonly User[]): Promise<number> {
    const response = await fetch(`${apiUrl}/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(users) });
    await response.arrayBuffer();
    return response.status;
  };
}

const raiseForStatus = (status: number) => {
  if (status !== 200) throw new HttpError(status);
};

/** The cursor's pages, a page at a time, closed on every way out. */
async function* pages(client: pg.Client): AsyncGenerator<Row[]> {
  const cursor = client.query(new Cursor<Row>(QUERY));
  try {
    for (let page = await cursor.read(PAGE); page.length > 0; page = await cursor.read(PAGE)) yield page;
  } finally {
    await cursor.close();
  }
}

/** The same, a row at a time: how a driver's async iterable hands rows over. */
async function* rows(client: pg.Client): AsyncGenerator<Row> {
  for await (const page of pages(client)) yield* page;
}

/** The reference job after its source: the same chain for both ways of reading the rows. */
const reverseEtl = (rows: Stream<Row>, post: (users: readonly User[]) => Promise<number>) =>
  rows
    .map(toUser)
    .observe("users", { do: () => {} })
    .group(BATCH)
    .map(post, { concurrency: CONCURRENCY })
    .do(raiseForStatus)
    .observe("integrated batches", { do: () => {} })
    .catch(Error, { finallyThrow: true })
    .run();

const jobs: Record<ContestantName, (client: pg.Client, post: (users: readonly User[]) => Promise<number>) => Promise<unknown>> = {
  "streamable-ts, pages + flatten": (client, post) => reverseEtl(stream(pages(client)).flatten(), post),
  "streamable-ts, a row at a time": (client, post) => reverseEtl(stream(rows(client)), post),
  "p-map + a hand-written batcher": async (client, post) => {
    async function* batches(): AsyncGenerator<User[]> {
      let batch: User[] = [];
      for await (const row of rows(client)) {
        batch.push(toUser(row));
        if (batch.length === BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    }
    await pMap(batches(), async (batch) => raiseForStatus(await post(batch)), { concurrency: CONCURRENCY });
  },
  // The floor: workers that share the cursor, each taking the next 100 rows of the page at hand
  // (one page read in flight at a time), with no stage per row.
  "16 hand-written workers on the cursor's pages": async (client, post) => {
    const cursor = client.query(new Cursor<Row>(QUERY));
    let page: Row[] = [];
    let offset = 0;
    let reading: Promise<Row[]> | undefined;
    let ended = false;
    const nextBatch = async (): Promise<Row[] | undefined> => {
      while (offset >= page.length) {
        if (ended) return undefined;
        if (reading === undefined) {
          reading = cursor.read(PAGE);
          const read = await reading;
          reading = undefined;
          page = read;
          offset = 0;
          if (read.length === 0) ended = true;
        } else await reading;
      }
      const batch = page.slice(offset, offset + BATCH);
      offset += BATCH;
      return batch;
    };
    const worker = async () => {
      for (let batch = await nextBatch(); batch !== undefined; batch = await nextBatch()) raiseForStatus(await post(batch.map(toUser)));
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      await cursor.close();
    }
  },
};

/** The resident set size from the moment `rows` rows were read: there, and the most after. */
class RssAfter {
  at = 0;
  peakAfter = 0;
  constructor(readonly rows: number) {}
  sample(rss: number): void {
    if (this.at === 0) {
      if (rowsRead >= this.rows) this.at = rss;
    } else this.peakAfter = Math.max(this.peakAfter, rss);
  }
}

async function runContestant(name: ContestantName, databaseUrl: string, apiUrl: string, total: number): Promise<JobRun> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const post = poster(apiUrl);
  const after100k = new RssAfter(100_000);
  const afterTenth = new RssAfter(total / 10);
  const sample = () => {
    const rss = process.memoryUsage.rss();
    after100k.sample(rss);
    afterTenth.sample(rss);
  };
  const sampler = setInterval(sample, 100);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await jobs[name](client, post);
  } finally {
    clearInterval(sampler);
    await client.end();
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  sample();
  return {
    name,
    rows: rowsRead,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssAt100k: after100k.at,
    rssPeakAfter100k: after100k.peakAfter,
    rssAtTenth: afterTenth.at,
    rssPeakAfterTenth: afterTenth.peakAfter,
  };
}

/** The destination: answers at once, counts what it received. Prints its URL on its first line. */
function serveApi(): void {
  let stats = { requests: 0, rows: 0, idSum: 0 };
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/stats") return res.end(JSON.stringify(stats));
      if (req.method === "POST" && req.url === "/reset") {
        stats = { requests: 0, rows: 0, idSum: 0 };
        return res.end("{}");
      }
      const users = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: number }[];
      stats.requests++;
      stats.rows += users.length;
      for (const user of users) stats.idSum += user.id;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
}

if (process.argv[2] === "--api") serveApi();
else if (process.argv[2] === "--contestant") {
  const [name, databaseUrl, apiUrl, total] = process.argv.slice(3) as [ContestantName, string, string, string];
  if (!CONTESTANTS.includes(name)) throw new Error(`bench:job: no contestant named ${JSON.stringify(name)}`);
  console.log(JSON.stringify(await runContestant(name, databaseUrl, apiUrl, Number(total))));
}
