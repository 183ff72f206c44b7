/**
 * `npm run example`: a small job over an in-memory "table", showing the pieces a
 * data job uses: map, filter, group, observe, catch with finallyThrow, explain.
 */
import { stream } from "streamable-ts";

interface Row {
  readonly id: number;
  readonly email: string;
}

const rows: Row[] = Array.from({ length: 250 }, (_, i) => ({ id: i + 1, email: i === 41 ? "" : `user${i + 1}@example.com` }));

class InvalidRow extends Error {}

function validate(row: Row): Row {
  if (!row.email) throw new InvalidRow(`row ${row.id} has no email`);
  return row;
}

const posted: number[][] = [];
async function post(batch: Row[]): Promise<number> {
  posted.push(batch.map((r) => r.id));
  return batch.length;
}

function logSkipped(error: InvalidRow): void {
  console.error(`skipped: ${error.message}`);
}

const job = stream(rows)
  .map(validate)
  .observe("users")
  .group(100)
  .observe("user batches")
  .map(post)
  .catch(InvalidRow, { do: logSkipped, finallyThrow: true });

console.log(`${job.explain()}\n`);
try {
  await job.run();
} catch (error) {
  console.log(`the job failed at the end, as it should: ${(error as Error).message}`);
}
console.log(`posted ${posted.length} batches holding ${posted.flat().length} users`);
