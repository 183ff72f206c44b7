/**
 * The queue engine (src/core/queue.ts) on its own: its entries are recycled and its list is a
 * circular array, so these check that no element is mixed up, lost or kept, across growth and
 * reuse, in both orders, against a model run by fast-check.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Queue, Ring } from "../src/core/queue.js";
import { Deferred } from "./support/deferred.js";

test("Ring: first in, first out across growth with the head wrapped around", () => {
  const ring = new Ring<number>();
  const model: number[] = [];
  let next = 0;
  // Pushes outrun shifts, so the ring grows (16, 32, 64...) while its head is anywhere.
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 3; i++) {
      ring.push(next);
      model.push(next++);
    }
    for (let i = 0; i < 2; i++) assert.equal(ring.shift(), model.shift(), `shift in round ${round}`);
    assert.equal(ring.length, model.length, `length in round ${round}`);
    assert.equal(ring.peek(), model[0], `peek in round ${round}`);
  }
  while (model.length > 0) assert.equal(ring.shift(), model.shift(), "the rest, in order");
  assert.equal(ring.shift(), undefined, "empty");
});

type Op = { kind: "add" } | { kind: "settle"; pick: number; fail: boolean } | { kind: "take" };

const ops = fc.array(
  fc.oneof(
    fc.constant<Op>({ kind: "add" }),
    fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), fail: fc.boolean() }),
    fc.constant<Op>({ kind: "take" }),
  ),
  { maxLength: 300 },
);

for (const order of ["ordered", "asCompleted"] as const) {
  test(`Queue (${order}): recycled entries never mix up elements, against a model`, async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (script) => {
        const queue = new Queue(order);
        /** Entries added and not settled yet, with their own promise; settled ones in the order they must come out. */
        const pending: { id: number; call: Deferred<number> }[] = [];
        const addOrder: number[] = [];
        const settledIds: number[] = [];
        const outcome = new Map<number, { failed: boolean }>();
        let ids = 0;
        for (const op of script) {
          if (op.kind === "add") {
            const id = ids++;
            const call = new Deferred<number>();
            queue.settle(queue.add(id), call.promise);
            pending.push({ id, call });
            addOrder.push(id);
          } else if (op.kind === "settle" && pending.length > 0) {
            const { id, call } = pending.splice(op.pick % pending.length, 1)[0]!;
            outcome.set(id, { failed: op.fail });
            if (op.fail) call.reject(new Error(`e${id}`));
            else call.resolve(id * 10);
            await Promise.resolve(); // the queue's handlers run
            await Promise.resolve();
            settledIds.push(id);
          } else if (op.kind === "take") {
            const expected = order === "ordered" ? addOrder[0] : settledIds[0];
            const ready = expected !== undefined && outcome.has(expected);
            const entry = queue.take();
            if (!ready) {
              assert.equal(entry, undefined, "nothing taken before the head settles");
              continue;
            }
            assert.ok(entry !== undefined, `the head ${expected} is taken once settled`);
            if (outcome.get(expected)!.failed) {
              assert.equal(entry.state, "failed", `entry ${expected} failed`);
              assert.equal((entry.value as Error).message, `e${expected}`, "its own error");
            } else {
              assert.equal(entry.state, "fulfilled", `entry ${expected} fulfilled`);
              assert.equal(entry.value, expected * 10, "its own value");
            }
            addOrder.splice(addOrder.indexOf(expected), 1);
            settledIds.splice(settledIds.indexOf(expected), 1);
          }
        }
        assert.equal(queue.size, addOrder.length, "size counts the entries not taken");
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 100) },
    );
  });
}

test("Queue: a taken element is no longer held once the next one is taken", () => {
  const queue = new Queue("ordered");
  const big = { rows: new Array(1000).fill(0) };
  queue.settle(queue.add(), big);
  queue.settle(queue.add(), "second");
  const first = queue.take();
  assert.equal(first?.value, big, "the first taken, read at once");
  assert.equal(queue.take()?.value, "second", "the second");
  // The first entry is free again: it holds nothing of its element.
  assert.equal(first!.value, undefined, "a free entry keeps no element");
});
