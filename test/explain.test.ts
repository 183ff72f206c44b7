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
      "stream(Array(1))",
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
      "  .concat(Array(1))",
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
  assert.equal(stream(rows()).explain(), "stream(Generator)");
  assert.equal(stream(Array(100).fill(0)).explain(), "stream(Array(100))");
  assert.equal(stream([1]).catch().explain(), "stream(Array(1))\n  .catch()");
  assert.equal(stream([1]).catch([TypeError, RangeError], { stop: true }).explain(), "stream(Array(1))\n  .catch([TypeError, RangeError], { stop: true })");
  assert.equal(stream([1]).group().explain(), "stream(Array(1))\n  .group()");
  assert.equal(stream([1]).take((x) => x > 1).explain(), "stream(Array(1))\n  .take((x) => x > 1)", "a short anonymous function shows its source");
});

test("explain shows an anonymous function's source spaced the same whoever compiled it, cut at 60 characters", () => {
  // This file runs through tsx, which strips the whitespace (`user=>({id:user.id,name:user.name})`).
  assert.equal(
    stream([{ id: 1, name: "a" }]).map((user) => ({ id: user.id, name: user.name })).explain(),
    "stream(Array(1))\n  .map((user) => ({ id: user.id, name: user.name }))",
  );
  // What tsc emits for the built package (the author's spacing) and what tsx or a bundler emits read the same.
  const compiled: [string, string][] = [
    ["(user) => ({ id: user.id, name: user.name })", "user=>({id:user.id,name:user.name})"],
    ["async (u) => {\n    const x = u.id * 2;\n    return `${x}: ${u.name}`;\n}", "async u=>{const x=u.id*2;return`${x}: ${u.name}`}"],
    ['(x) => x !== "a" && x.length > 2', 'x=>x!=="a"&&x.length>2'],
    ["(x) => x > 0 ? -x : x - 1", "x=>x>0?-x:x-1"],
    ["function (row) { return row.updated_at >= since; }", "function(row){return row.updated_at>=since}"],
    ["(e) => !(e instanceof TypeError) /* passing */", "e=>!(e instanceof TypeError)"],
    // What a formatter writes and esbuild reprints: parentheses around a body, trailing commas.
    ["(x) => (x.ok ? x.value : null)", "x=>x.ok?x.value:null"],
    ["(x) => ({\n  id: x.id,\n  tags: [x.a, x.b,],\n})", "x=>({id:x.id,tags:[x.a,x.b]})"],
    ["(x) => (x.a + 1) * (x.b - 1)", "x=>(x.a+1)*(x.b-1)"],
  ];
  for (const [tsc, tsx] of compiled) {
    const [a, b] = [tsc, tsx].map((source) => stream([1]).filter(new Function(`return ${source}`)() as (x: unknown) => boolean).explain());
    assert.equal(a, b, `${JSON.stringify(tsc)} and ${JSON.stringify(tsx)} show the same`);
  }
  const long = stream([1]).map(async (u: number, { signal }) => (signal.aborted ? 0 : await Promise.resolve(u * 2 + 1000000)), { concurrency: 3 });
  assert.equal(long.explain(), "stream(Array(1))\n  .map(async (u, { signal }) => signal.aborted ? 0 : await Promi..., { concurrency: 3 })");
});

test("explain shows a stream used as a source with its own plan", () => {
  const inner = stream([1, 2]).map(String);
  assert.equal(
    stream(inner).filter(Boolean).explain(),
    ["stream(", "    stream(Array(2))", "      .map(String)", "  )", "  .filter(Boolean)"].join("\n"),
  );
});

test("explain shows a source's shape, never its elements: a plan is logged, and rows hold emails and keys", () => {
  const secrets = ["sk_live_0123456789", "ada@example.com"];
  for (const s of [stream(secrets), stream(new Set(secrets)), stream([1]).concat(secrets), stream([{ token: secrets[0] }])]) {
    for (const text of [s.explain(), String(s), inspect(s, { depth: 10 })]) {
      assert.ok(!text.includes("sk_live") && !text.includes("ada@"), `no element in ${text}`);
    }
  }
  assert.equal(stream(new Set(secrets)).explain(), "stream(Set(2))");
  assert.equal(stream([1]).concat(secrets).explain(), "stream(Array(1))\n  .concat(Array(2))");
});

test("build-time errors show a bounded, truncated value", () => {
  const huge = { a: "x".repeat(10_000), b: { c: { d: { e: 1 } } }, f: Array(10_000).fill(7) };
  for (const bad of [() => stream(huge as never), () => stream([1]).take(huge as never), () => stream([1]).map(String, { concurrency: huge as never })]) {
    assert.throws(bad, (e: Error) => e.message.length < 300, "the message stays short");
  }
  assert.throws(() => stream([1]).take(Object.create(null)), { message: "`take` expects a count or a predicate as `until`, got {}" });
  assert.throws(() => stream([1]).skip(Object.create(null)), { message: "`skip` expects a count or a predicate as `until`, got {}" });
  assert.throws(() => stream([1]).take("2" as never), { message: '`take` expects a count or a predicate as `until`, got "2"' });
  assert.throws(() => stream({} as never), { message: "`source` must be an Iterable, an AsyncIterable or a function, got {}" });
});
