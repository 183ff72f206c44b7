import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { CountingSource, err, fail, forEachMode, type Mode } from "./support/modes.js";

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** 1, 2, 3... with TypeErrors for "t" and HttpErrors for numbers above 99. */
const parse = (mode: Mode, items: (number | string)[]) =>
  stream(mode.source(items).iterable).map(
    mode.fn((x: number | string) => {
      if (x === "t") throw new TypeError("not a number");
      if (typeof x === "number" && x > 99) throw new HttpError(x);
      return x as number;
    }),
  );

forEachMode("catch() skips every error", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source([1, fail("a"), 2, fail("b"), fail("c"), 3]).iterable).catch()), [1, 2, 3]);
});

forEachMode("catch(Class) catches only instances of the class; others come out", async (mode) => {
  assert.deepEqual(await mode.collect(parse(mode, [1, "t", 500, 2]).catch(HttpError)), [1, err("not a number"), 2]);
});

forEachMode("catch([A, B]) catches instances of any of them", async (mode) => {
  assert.deepEqual(await mode.collect(parse(mode, [1, "t", 500, 2]).catch([HttpError, TypeError])), [1, 2]);
});

forEachMode("catch `where` narrows what is caught", async (mode) => {
  const s = parse(mode, [1, 404, 503, 2]).catch(HttpError, { where: mode.fn((e: HttpError) => e.status === 404) });
  assert.deepEqual(await mode.collect(s), [1, err("HTTP 503"), 2]);
});

forEachMode("catch `replace` yields a replacement in place of the error", async (mode) => {
  const s = parse(mode, [1, 404, 2]).catch(HttpError, { replace: mode.fn((e: HttpError) => -e.status) });
  assert.deepEqual(await mode.collect(s), [1, -404, 2]);
});

forEachMode("catch runs where, then do, then replace, once per caught error", async (mode) => {
  const log: string[] = [];
  const s = parse(mode, [404]).catch(HttpError, {
    where: mode.fn(() => (log.push("where"), true)),
    do: mode.fn(() => void log.push("do")),
    replace: mode.fn(() => (log.push("replace"), 0)),
  });
  assert.deepEqual(await mode.collect(s), [0]);
  assert.deepEqual(log, ["where", "do", "replace"]);
});

forEachMode("catch `stop` ends the stream at the first caught error and closes the source", async (mode) => {
  const { counter, iterable } = mode.source([1, fail("a"), 2]);
  assert.deepEqual(await mode.collect(stream(iterable).catch({ stop: true })), [1]);
  assert.equal(counter.pulls, 2);
  assert.equal(counter.returns, 1);
});

forEachMode("catch `stop` with `replace`: the replacement is the last element", async (mode) => {
  const s = stream(mode.source([1, fail("a"), 2]).iterable).catch({ stop: true, replace: mode.fn(() => 0) });
  assert.deepEqual(await mode.collect(s), [1, 0]);
});

forEachMode("catch `finallyThrow` skips errors, then throws the first one once upstream is exhausted", async (mode) => {
  const s = stream(mode.source([1, fail("first"), 2, fail("second"), 3]).iterable).catch({ finallyThrow: true });
  assert.deepEqual(await mode.collect(s), [1, 2, 3, err("first")]);
});

forEachMode("catch `finallyThrow` with `stop` throws the caught error when stopping", async (mode) => {
  const s = stream(mode.source([1, fail("first"), 2]).iterable).catch({ stop: true, finallyThrow: true });
  assert.deepEqual(await mode.collect(s), [1, err("first")]);
});

forEachMode("catch: an error thrown by `where` comes out instead and does not stop the stream", async (mode) => {
  const where = mode.fn((): boolean => {
    throw new Error("where failed");
  });
  const s = stream(mode.source([1, fail("a"), 2]).iterable).catch({ where, stop: true });
  assert.deepEqual(await mode.collect(s), [1, err("where failed"), 2]);
});

forEachMode("catch: an error thrown by `do` comes out instead, and `stop` still applies", async (mode) => {
  const effect = mode.fn(() => {
    throw new Error("do failed");
  });
  const s = stream(mode.source([1, fail("a"), 2]).iterable).catch({ do: effect, stop: true, replace: () => 0 });
  assert.deepEqual(await mode.collect(s), [1, err("do failed")]);
});

forEachMode("catch: a long run of caught errors is skipped in a loop", async (mode) => {
  const items = [...Array.from({ length: 50_000 }, () => fail("x")), 1];
  assert.deepEqual(await mode.collect(stream(mode.source(items).iterable).catch()), [1]);
});

test("catch with `replace` widens the element type", async () => {
  const out: (number | string)[] = await stream([1]).catch(Error, { replace: () => "x" }).toArray();
  assert.deepEqual(out, [1]);
});

test("catch: bad arguments throw when the pipeline is built", () => {
  assert.throws(() => stream([1]).catch("Error" as never), { message: '`errors` must be an error class (such as TypeError) or an array of them, got "Error"' });
  // A callback where a class belongs: JavaScript users write this, and every error then failed in `instanceof`.
  const log = (e: unknown) => void e;
  assert.throws(() => stream([1]).catch(log as never), {
    name: "TypeError",
    message: "`errors` must be an error class (such as TypeError) or an array of them, got log; to act on each caught error, pass it as an option: catch({ do: (error) => ... })",
  });
  assert.throws(() => stream([1]).catch(Math.max as never), /`errors` must be an error class .* got max;/);
  assert.throws(() => stream([1]).catch([TypeError, (e: unknown) => e] as never), /`errors` must be an error class/);
  // An empty list would catch nothing (Python's `except ()`), which no one means: it is an error, not a silent catch-all.
  assert.throws(() => stream([1]).catch([]), { name: "TypeError", message: "`errors` is an empty array, which would catch nothing; pass at least one error class, or none to catch every error" });
  assert.throws(() => stream([1]).catch(Error, { stop: "yes" } as never), { message: '`stop` must be a boolean, got "yes"' });
  assert.throws(() => stream([1]).catch(Error, { finally: true } as never), /unknown option `finally` in `catch` options/);
  assert.throws(() => stream([1]).catch(Error, { do: 1 } as never), { message: "`do` must be a function, got 1" });
});

test("catch under a terminal: upstream pushes the elements that are ready, and its errors are still caught", async () => {
  const counter = new CountingSource([1, 2, 3, 4, 5]);
  const bad = (x: number) => {
    if (x % 2 === 0) throw new Error(`bad ${x}`);
    return x;
  };
  assert.deepEqual(await stream(counter.sync()).map(bad).catch().toArray(), [1, 3, 5]);
  const caught: string[] = [];
  await assert.rejects(
    stream([1, 2, 3, 4]).map(bad).catch(Error, { do: (e) => void caught.push(e.message), finallyThrow: true }).count(),
    /bad 2/,
  );
  assert.deepEqual(caught, ["bad 2", "bad 4"]);
});
