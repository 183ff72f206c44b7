import assert from "node:assert/strict";
import { test } from "node:test";
import { stream } from "streamable-ts";
import { assertSyncRejectsPromises, err, fail, forEachMode } from "./support/modes.js";

forEachMode("do yields each element unchanged after its effect ran", async (mode) => {
  const log: string[] = [];
  const s = stream(mode.source([1, 2]).iterable)
    .do(mode.fn((x: number) => void log.push(`effect ${x}`)))
    .map((x) => (log.push(`downstream ${x}`), x));
  assert.deepEqual(await mode.collect(s), [1, 2]);
  assert.deepEqual(log, ["effect 1", "downstream 1", "effect 2", "downstream 2"]);
});

forEachMode("do ignores the effect's result", async (mode) => {
  assert.deepEqual(await mode.collect(stream(mode.source([1, 2]).iterable).do(mode.fn(() => "ignored"))), [1, 2]);
});

forEachMode("do: a throwing effect puts its error in place of the element; source errors pass", async (mode) => {
  const s = stream(mode.source([1, 2, fail("bad"), 3]).iterable).do(
    mode.fn((x: number) => {
      if (x === 2) throw new Error("effect failed");
    }),
  );
  assert.deepEqual(await mode.collect(s), [1, err("effect failed"), err("bad"), 3]);
});

test("do: sync iteration rejects an effect returning a promise", () => {
  const it = (stream([1]).do(() => Promise.resolve()) as unknown as Iterable<number>)[Symbol.iterator]();
  assertSyncRejectsPromises(() => it.next());
});

test("do: a non-function effect throws when the pipeline is built", () => {
  assert.throws(() => stream([1]).do(undefined as never), { message: "`effect` must be a function, got undefined" });
});
