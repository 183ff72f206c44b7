import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { stream } from "streamable-ts";

function toUser(row: object) {
  return { ...row };
}
function post(batch: unknown[]) {
  return batch.length;
}
function raiseForStatus() {}

test("explain prints the plan as it reads in code, one operation per line", () => {
  const rows = [{ id: 1 }];
  const s = stream(rows)
    .map(toUser)
    .observe("users")
    .group(100)
    .observe("user batches", { every: 10 })
    .map(post)
    .do(raiseForStatus)
    .filter(Boolean)
    .group({ upTo: 2, by: String })
    .take(5)
    .skip(1)
    .flatten()
    .concat([1])
    .catch(Error, { finallyThrow: true });
  assert.equal(
    s.explain(),
    [
      "stream([{ id: 1 }])",
      "  .map(toUser)",
      '  .observe("users")',
      "  .group(100)",
      '  .observe("user batches", { every: 10 })',
      "  .map(post)",
      "  .do(raiseForStatus)",
      "  .filter(Boolean)",
      "  .group({ upTo: 2, by: String })",
      "  .take(5)",
      "  .skip(1)",
      "  .flatten()",
      "  .concat([1])",
      "  .catch(Error, { finallyThrow: true })",
    ].join("\n"),
  );
  assert.equal(String(s), s.explain());
  assert.equal(inspect(s), s.explain());
});

test("explain names sources and options plainly", () => {
  function* rows() {
    yield 1;
  }
  assert.equal(stream(rows()).explain(), "stream(Generator {...})");
  assert.equal(stream(Array(100).fill(0)).explain(), "stream(Array(100))");
  assert.equal(stream([1]).catch().explain(), "stream([1])\n  .catch()");
  assert.equal(stream([1]).catch([TypeError, RangeError], { stop: true }).explain(), "stream([1])\n  .catch([TypeError, RangeError], { stop: true })");
  assert.equal(stream([1]).group().explain(), "stream([1])\n  .group()");
  assert.match(stream([1]).take((x) => x > 1).explain(), /^stream\(\[1\]\)\n  \.take\(\(?x\)? ?=> ?x ?> ?1\)$/, "a short anonymous function shows its source");
});

test("explain shows a stream used as a source with its own plan", () => {
  const inner = stream([1, 2]).map(String);
  assert.equal(
    stream(inner).filter(Boolean).explain(),
    ["stream(", "    stream([1, 2])", "      .map(String)", "  )", "  .filter(Boolean)"].join("\n"),
  );
});
