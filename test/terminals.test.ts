import assert from "node:assert/strict";
import { test } from "node:test";
import { stream, type Stream } from "streamable-ts";
import { settle } from "./support/clock.js";
import { CountingSource, fail } from "./support/modes.js";
import { Deferred } from "./support/deferred.js";

test("toArray, count, reduce and run iterate to the end", async () => {
  const s = stream([1, 2, 3]);
  assert.deepEqual(await s.toArray(), [1, 2, 3]);
  assert.equal(await s.count(), 3);
  assert.equal(await s.reduce((a, x) => a + x, 0), 6);
  assert.equal(await s.reduce(async (a, x) => a + x, 10), 16);
  const seen: number[] = [];
  assert.equal(await s.do((x) => void seen.push(x)).run(), undefined);
  assert.deepEqual(seen, [1, 2, 3]);
});

test("terminals reject with the first error and close the source once", async () => {
  for (const terminal of [(s: Stream<number>) => s.toArray(), (s: Stream<number>) => s.count(), (s: Stream<number>) => s.run()]) {
    const source = new CountingSource([1, 2, 3]);
    const s = stream(source.sync()).map((x) => {
      if (x === 2) throw new Error("two");
      return x;
    });
    await assert.rejects(terminal(s), /two/);
    assert.equal(source.returns, 1);
    assert.equal(source.pulls, 2);
  }
});

test("an aborted signal rejects a terminal at once with its reason and closes the source", async () => {
  const pending = new Deferred<IteratorResult<number>>();
  let returns = 0;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({ next: () => pending.promise, return: async () => (returns++, { done: true, value: undefined }) }),
  };
  const signals: AbortSignal[] = [];
  const controller = new AbortController();
  const done = stream(source).map((x, { signal }) => (signals.push(signal), x)).toArray({ signal: controller.signal });
  await settle();
  controller.abort(new Error("job cancelled"));
  await assert.rejects(done, /job cancelled/);
  assert.equal(returns, 1);
  pending.resolve({ done: false, value: 1 }); // settling late changes nothing and raises nothing
  await settle();
});

test("an already aborted signal rejects without reading the source", async () => {
  const source = new CountingSource([1]);
  await assert.rejects(stream(source.sync()).count({ signal: AbortSignal.abort(new Error("no")) }), /no/);
  assert.equal(source.pulls, 0);
  assert.equal(source.returns, 1);
});

test("a signal aborted during a synchronous run stops it between elements", async () => {
  const controller = new AbortController();
  const source = new CountingSource([1, 2, 3, 4]);
  const s = stream(source.sync()).do((x) => {
    if (x === 2) controller.abort(new Error("enough"));
  });
  await assert.rejects(s.run({ signal: controller.signal }), /enough/);
  assert.equal(source.pulls, 2);
  assert.equal(source.returns, 1);
});

test("sync iteration honours an aborted signal given to iterate()", () => {
  const controller = new AbortController();
  const it = stream([1, 2]).iterate({ signal: controller.signal });
  assert.equal(it.next().value, 1);
  controller.abort(new Error("stop"));
  assert.throws(() => it.next(), /stop/);
  assert.deepEqual(it.next(), { done: true, value: undefined });
});

test("terminals over an async source: long runs of dropped elements, async steps, and a source error", async () => {
  const items = Array.from({ length: 50_000 }, (_, i) => i);
  const kept = await stream(new CountingSource(items).async())
    .filter((x) => x % 10_000 === 0)
    .map(async (x) => x / 10_000)
    .map((x) => x * 2)
    .toArray();
  assert.deepEqual(kept, [0, 2, 4, 6, 8]);
  assert.equal(await stream(new CountingSource(items).async()).filter((x) => x > 49_990).count(), 9);

  const source = new CountingSource([1, 2, fail("source broke"), 3]);
  await assert.rejects(stream(source.async()).map((x) => x * 2).run(), /source broke/);
  assert.equal(source.returns, 1, "the first error ends the terminal and closes the source once");
  assert.equal(source.pulls, 3);
});

test("iterateAsync({ signal }): an abort rejects the pending call at once, closes the source, and ends the iteration", async () => {
  const pending = new Deferred<IteratorResult<number>>();
  let returns = 0;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({ next: () => pending.promise, return: async () => (returns++, { done: true, value: undefined }) }),
  };
  const controller = new AbortController();
  const it = stream(source).map((x) => x * 2).iterateAsync({ signal: controller.signal });
  const call = it.next();
  await settle();
  controller.abort(new Error("deadline"));
  await assert.rejects(call, /deadline/);
  assert.equal(returns, 1);
  await assert.rejects(it.next(), /deadline/, "later calls keep saying why");
  pending.resolve({ done: false, value: 1 });
  await settle();
});

test("toArray, count and run: elements ready at once and elements a callback leaves pending keep their order, over every kind of source", async () => {
  const items = Array.from({ length: 40 }, (_, i) => i);
  // A plain function that returns a promise for some elements only: the drain must stop there and go on after.
  const tenfold = (x: number) => (x % 4 === 0 ? Promise.resolve(x * 10) : x * 10);
  const expected = items.filter((x) => x % 3 !== 0).map((x) => x * 10);
  const sources = {
    array: () => items,
    iterable: () => new CountingSource(items).sync(),
    "async iterable": () => new CountingSource(items).async(),
  };
  for (const [kind, source] of Object.entries(sources)) {
    const s = () => stream(source()).filter((x) => x % 3 !== 0).map(tenfold);
    assert.deepEqual(await s().toArray(), expected, kind);
    assert.equal(await s().count(), expected.length, kind);
    const seen: number[] = [];
    await s().do((x) => void seen.push(x)).run();
    assert.deepEqual(seen, expected, kind);
  }
});

test("toArray, count and run: an error after a pending element rejects with it and closes the source once", async () => {
  for (const terminal of [(s: Stream<number>) => s.toArray(), (s: Stream<number>) => s.count(), (s: Stream<number>) => s.run()]) {
    for (const read of ["sync", "async"] as const) {
      const source = new CountingSource([1, 2, 3, 4, 5]);
      const s = stream(read === "sync" ? source.sync() : source.async()).map((x) => {
        if (x === 2) return Promise.resolve(x);
        if (x === 4) throw new Error("four");
        return x;
      });
      await assert.rejects(terminal(s), /four/);
      assert.equal(source.returns, 1, read);
      assert.equal(source.pulls, 4, read);
    }
  }
  const seen: number[] = [];
  const array = stream([1, 2, 3, 4, 5]).map((x) => (x === 2 ? Promise.resolve(x) : x === 4 ? fail4() : x));
  await assert.rejects(array.do((x) => void seen.push(x)).run(), /four/);
  assert.deepEqual(seen, [1, 2, 3], "an array source stops at the error too");
});

function fail4(): never {
  throw new Error("four");
}

test("toArray, count and run over a head that is not a run of steps (take, observe, group, a concurrent map): ready and pending elements, then the first error", async () => {
  const heads: [string, (s: Stream<number>) => Stream<unknown>][] = [
    ["take", (s) => s.take(100)],
    ["observe", (s) => s.observe("n", { do: () => {} })],
    ["group", (s) => s.group(1)],
    ["concurrent map", (s) => s.map(async (x) => x, { concurrency: 2 })],
  ];
  for (const [name, head] of heads) {
    const items = [1, 2, 3, 4, 5, 6];
    const pendingSome = (x: number) => (x % 2 === 0 ? Promise.resolve(x) : x);
    const all = await head(stream(items).map(pendingSome)).toArray();
    assert.deepEqual(all.flat(), items, name);
    assert.equal(await head(stream(items).map(pendingSome)).count(), items.length, name);

    const source = new CountingSource([1, 2, 3, 4, 5, 6]);
    const failing = head(stream(source.sync()).map((x) => (x === 4 ? fail4() : pendingSome(x))));
    await assert.rejects(failing.run(), /four/, name);
    assert.equal(source.returns, 1, `${name}: the source is closed once`);
  }
});

test("toArray keeps every element in order across its chunks and blocks (256 per chunk, 4096 chunks per block)", async () => {
  const chunk = 256;
  const block = chunk * 4096;
  for (const n of [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, block - 1, block, block + 1, 2 * block + chunk + 7]) {
    const integers = Array.from({ length: n }, (_, i) => i);
    const collected = await stream(integers).map((x) => x * 2).toArray();
    assert.equal(collected.length, n, `length for ${n}`);
    for (let i = 0; i < n; i++) if (collected[i] !== 2 * i) assert.fail(`element ${i} of ${n} is ${collected[i]}`);
    assert.ok(Array.isArray(collected), "toArray() gives an array");
  }
});

test("toArray returns elements that are arrays as they are, and elements of every kind", async () => {
  const groups = await stream(Array.from({ length: 1000 }, (_, i) => i)).group(2).toArray();
  assert.equal(groups.length, 500);
  assert.deepEqual(groups[0], [0, 1]);
  assert.deepEqual(groups[257], [514, 515]);
  assert.deepEqual(groups.at(-1), [998, 999]);
  const mixed = [1, 1.5, "s", undefined, null, { a: 1 }, [2], -0, NaN];
  const many = Array.from({ length: 300 }, (_, i) => mixed[i % mixed.length]);
  assert.deepEqual(await stream(many).toArray(), many);
  const short = await stream(new Set([1, 2, 3])).toArray();
  assert.deepEqual(short, [1, 2, 3]);
  short.push(4); // an ordinary array the caller owns
  assert.deepEqual(await stream(new Set([1, 2, 3])).toArray(), [1, 2, 3]);
});

test("terminal options are checked before the source is opened, naming what is wrong", async () => {
  for (const [name, run] of [
    ["toArray", (s: Stream<number>, o: unknown) => s.toArray(o as never)],
    ["count", (s: Stream<number>, o: unknown) => s.count(o as never)],
    ["run", (s: Stream<number>, o: unknown) => s.run(o as never)],
    ["reduce", (s: Stream<number>, o: unknown) => s.reduce((a, x) => a + x, 0, o as never)],
  ] as const) {
    const source = new CountingSource([1, 2]);
    const s = stream(source.async());
    await assert.rejects(run(s, "junk"), { name: "TypeError", message: `\`${name}\` options must be an object, got "junk"` });
    await assert.rejects(run(s, { sginal: 1 }), { message: `unknown option \`sginal\` in \`${name}\` options; expected \`signal\`, \`clock\`` });
    await assert.rejects(run(s, { signal: "x" }), { message: '`signal` must be an AbortSignal, got "x"' });
    await assert.rejects(run(s, { clock: {} }), { message: "`clock` must have `now()` and `sleep(ms, signal)`, got {}" });
    assert.equal(source.pulls, 0, `${name}: the source was never opened`);
  }
});

test("reduce without an initial value starts from the first element, as Array.prototype.reduce", async () => {
  assert.equal(await stream([3, 9, 4]).reduce((a, b) => Math.max(a, b)), 9);
  assert.equal(await stream(new CountingSource([1, 2, 3]).async()).reduce(async (a, b) => a + b), 6);
  assert.equal(await stream([7]).reduce(() => -1), 7, "one element: fn is never called");
  await assert.rejects(stream<number>([]).reduce((a, b) => a + b), { name: "TypeError", message: "`reduce` of an empty stream with no initial value" });
  assert.equal(await stream<number>([]).reduce((a, b) => a + b, 0), 0);
  assert.equal(await stream([1, 2]).reduce((a: number | undefined, b) => (a ?? 0) + b, undefined), 3, "an explicit undefined is an initial value");
});
