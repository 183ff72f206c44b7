/**
 * W3: an async generator source through filter(odd).map(String), against a hand-written `for await`.
 * `npm run bench` times it (`w3`); `npm run bench:instructions` counts its instructions (instructions.ts).
 */
import { stream } from "streamable-ts";
import { compete, table, target, type Contestant } from "./harness.js";

/** The last string of each loop, kept where the optimiser cannot drop it. */
export let kept = "";
const odd = (x: number) => (x & 1) === 1;
/** The issue names no size; an async generator yields 4-9 M elements/s here, so a run takes 0.1-0.25 s. */
const w3Size = 1_000_000;

async function* range(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

const SKIPPED = Symbol("skipped");
const filterOddMapString = (x: number): string | typeof SKIPPED => (odd(x) ? String(x) : SKIPPED);

/** W3's steps over an async iterator with one `then` per pull; a dropped element chains the next pull. */
class ThenWrapper implements AsyncIterableIterator<string> {
  readonly #source: AsyncIterator<number>;
  constructor(source: AsyncIterable<number>) {
    this.#source = source[Symbol.asyncIterator]();
  }
  readonly #step = (r: IteratorResult<number>): IteratorResult<string> | Promise<IteratorResult<string>> => {
    if (r.done) return r;
    const out = filterOddMapString(r.value);
    return out === SKIPPED ? this.#source.next().then(this.#step) : { done: false, value: out };
  };
  next(): Promise<IteratorResult<string>> {
    return this.#source.next().then(this.#step);
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}

/** Generic combinators, as a library composes steps: keep `x` when `where(x)`, then go on with `then`. */
const keepIf =
  (where: (x: number) => unknown, then: (x: number) => unknown = (x) => x) =>
  (x: number): unknown =>
    where(x) ? then(x) : SKIPPED;
const mapTo =
  (into: (x: number) => unknown) =>
  (x: number): unknown =>
    into(x);

/** The same as an async `next()` that awaits pulls in a loop until an element comes out; the steps are passed in. */
class LoopWrapper implements AsyncIterableIterator<unknown> {
  readonly #source: AsyncIterator<number>;
  readonly #steps: (x: number) => unknown;
  constructor(source: AsyncIterable<number>, steps: (x: number) => unknown) {
    this.#source = source[Symbol.asyncIterator]();
    this.#steps = steps;
  }
  async next(): Promise<IteratorResult<unknown>> {
    for (;;) {
      const r = await this.#source.next();
      if (r.done) return r;
      const out = this.#steps(r.value);
      if (out !== SKIPPED) return { done: false, value: out };
    }
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}

/**
 * W3's contestants. Every `for await` is a loop of its own that keeps the last string, as a user's
 * loop is and as the hand-written one does (a shared helper's loop would have seen W2's iterators by
 * then, and a `String(x)` whose result goes unused is dropped by the optimiser).
 */
export async function w3Contestants(): Promise<Contestant[]> {
  // A library composes the user's functions with code that every pipeline shares; once V8 has seen several
  // functions there, it stops inlining them. The last bare wrapper's steps are composed by two generic
  // combinators that five other chains have gone through first:
  const otherChains = [keepIf((x) => x > 9, mapTo(String)), mapTo((x) => x + 1), keepIf((x) => x % 3 === 0, mapTo((x) => [x])), mapTo((x) => String(x).length), keepIf(odd, mapTo((x) => -x))];
  for (const steps of otherChains) for await (const _ of new LoopWrapper(range(20_000), steps));
  const composed = keepIf(odd, mapTo(String));
  return [
    {
      name: "hand-written for await",
      run: async (n) => {
        let count = 0;
        let last = "";
        for await (const x of range(n)) {
          if (odd(x)) {
            last = String(x);
            count++;
          }
        }
        kept = last; // used, so String(x) is not optimised away
        return count;
      },
    },
    {
      name: "streamable-ts for await",
      run: async (n) => {
        let count = 0;
        let last = "";
        for await (const s of stream(range(n)).filter(odd).map(String)) {
          last = s;
          count++;
        }
        kept = last; // used, so String(x) is not optimised away
        return count;
      },
    },
    { name: "streamable-ts count()", run: (n) => stream(range(n)).filter(odd).map(String).count() },
    // The least any stage that transforms an async source's elements can cost under `for await`: a promise of
    // its own per element on top of the source's. Neither wrapper keeps calls in order or survives an error.
    {
      name: "bare wrapper: one then",
      run: async (n) => {
        let count = 0;
        let last = "";
        for await (const s of new ThenWrapper(range(n))) {
          last = s;
          count++;
        }
        kept = last; // used, so String(x) is not optimised away
        return count;
      },
    },
    {
      name: "bare wrapper: async loop",
      run: async (n) => {
        let count = 0;
        let last = "";
        for await (const s of new LoopWrapper(range(n), filterOddMapString)) {
          last = s as string;
          count++;
        }
        kept = last; // used, so String(x) is not optimised away
        return count;
      },
    },
    // The same loop, its steps composed by the combinators that five other chains went through first (above).
    {
      name: "bare wrapper: async loop, steps composed",
      run: async (n) => {
        let count = 0;
        let last = "";
        for await (const s of new LoopWrapper(range(n), composed)) {
          last = s as string;
          count++;
        }
        kept = last; // used, so String(x) is not optimised away
        return count;
      },
    },
  ];
}

/** Times W3: all rows at one size in interleaved rounds (see `compete`), their ratios read at the 1.3x level. */
export async function w3(): Promise<void> {
  const rows = await compete(await w3Contestants(), w3Size);
  table("W3 async generator source, filter(odd).map(String)", rows, "hand-written for await");
  for (const row of rows.slice(1, 3)) {
    const ratio = rows[0]!.perSecond / row.perSecond;
    target(`W3 ${row.name} within 1.3x of a hand-written for await`, ratio <= 1.3, `${ratio.toFixed(2)}x the time`);
  }
  const bare = rows.slice(3).map((row) => `${row.name} ${(rows[0]!.perSecond / row.perSecond).toFixed(2)}x`);
  console.log(`  info the time of bare wrappers that own one promise per element: ${bare.join(", ")}`);
  console.log("  info on a shared machine these timed ratios move by 0.1x-0.3x between runs; `npm run bench:instructions` counts W3 in instructions");
}
