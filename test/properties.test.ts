// Invariants over random inputs, in sync and async iteration: nothing is lost, duplicated or reordered.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { stream } from "streamable-ts";
import { CountingSource, fail, MODES, type Failure } from "./support/modes.js";

/** Random sources: integers, with failures at random places. */
const items = fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 50 }) }, { weight: 1, arbitrary: fc.constant("fail") }), { maxLength: 60 });
const toSource = (xs: (number | string)[]) => xs.map((x, i) => (x === "fail" ? fail(`e${i}`) : x)) as (number | Failure)[];
const values = (xs: (number | string)[]) => xs.filter((x): x is number => x !== "fail");
const errors = (xs: (number | string)[]) => xs.flatMap((x, i) => (x === "fail" ? [`e${i}`] : []));
const isError = (x: unknown): x is { error: string } => typeof x === "object" && x !== null && "error" in x && !Array.isArray(x);

for (const mode of MODES.slice(0, 2)) {
  test(`property (${mode.iteration} iteration): group keeps every element once, in order, in groups of at most upTo, and every error`, async () => {
    await fc.assert(
      fc.asyncProperty(items, fc.integer({ min: 1, max: 7 }), fc.option(fc.integer({ min: 1, max: 4 })), async (xs, upTo, keys) => {
        const source = new CountingSource(toSource(xs));
        const iterable = mode.iteration === "sync" ? source.sync() : source.async();
        const s = keys === null ? stream(iterable).group(upTo) : stream(iterable).group({ upTo, by: (x) => x % keys });
        const out = await mode.collect(s as never);
        const groups = out.filter((x) => !isError(x)).map((g) => (keys === null ? (g as number[]) : (g as [number, number[]])[1]));
        assert.ok(groups.every((g) => g.length >= 1 && g.length <= upTo), `a group outside 1..${upTo}`);
        if (keys !== null) for (const g of out.filter((x) => !isError(x)) as [number, number[]][]) assert.ok(g[1].every((x) => x % keys === g[0]), `group ${g[0]} holds another key's element`);
        assert.deepEqual(groups.flat().sort((a, b) => a - b), values(xs).sort((a, b) => a - b), "every element exactly once");
        if (keys === null) assert.deepEqual(groups.flat(), values(xs), "in order without keys");
        assert.deepEqual(out.filter(isError).map((e) => e.error), errors(xs), "every error, in order");
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
  });

  test(`property (${mode.iteration} iteration): take and skip split the elements as slices do, errors passing through`, async () => {
    await fc.assert(
      fc.asyncProperty(items, fc.integer({ min: 0, max: 70 }), async (xs, n) => {
        const open = () => (mode.iteration === "sync" ? new CountingSource(toSource(xs)).sync() : new CountingSource(toSource(xs)).async());
        const taken = await mode.collect(stream(open()).take(n));
        const skipped = await mode.collect(stream(open()).skip(n));
        assert.deepEqual(taken.filter((x) => !isError(x)), values(xs).slice(0, n));
        assert.deepEqual(skipped.filter((x) => !isError(x)), values(xs).slice(n));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
  });

  test(`property (${mode.iteration} iteration): catch with replace keeps one output per input, in order`, async () => {
    await fc.assert(
      fc.asyncProperty(items, async (xs) => {
        const iterable = mode.iteration === "sync" ? new CountingSource(toSource(xs)).sync() : new CountingSource(toSource(xs)).async();
        const out = await mode.collect(stream(iterable).catch({ replace: (e) => (e as Error).message }));
        assert.deepEqual(out, xs.map((x, i) => (x === "fail" ? `e${i}` : x)));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
  });
}
