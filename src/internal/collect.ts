/**
 * Gathers elements into one array, for `toArray()`.
 *
 * Pushing millions of elements onto one array is slow for the garbage
 * collector, not for the loop: once the array's backing store is large it
 * lives outside the young generation, every store of a young element into it
 * is recorded for the next scavenge, and each growth copies it whole. So the
 * elements go into small arrays (chunks) that stay young and are allocated at
 * their full length (no growth, no spare capacity to copy), and `toArray()`
 * joins them once with `concat`, which knows the total length and copies each
 * chunk as one block. W2's 5 M strings in plain loops: pushed onto one array
 * 18-19 M/s, one growing chunk after another 26-29, full-length chunks 36-40.
 *
 * The first chunk grows as elements come, and a chunk is started only when an
 * element needs it: a result of at most one chunk is an ordinary array of its
 * exact length, returned with no copy.
 */
export class Collected<T> {
  #chunk: T[] = [];
  /** How many elements of `#chunk` are set; its length once it is full. */
  #filled = 0;
  #chunks: T[][] = [];
  readonly #blocks: T[][] = [];

  /** Appends `value`; a function of its own so it can be handed on as a sink. */
  readonly add = (value: T): void => {
    if (this.#filled === chunkLength) this.#startChunk(); // not before: a result that ends on a full chunk needs no new one
    this.#chunk[this.#filled++] = value;
  };

  #startChunk(): void {
    this.#chunks.push(this.#chunk);
    this.#chunk = emptyChunk.slice() as T[];
    this.#filled = 0;
    if (this.#chunks.length === chunksPerBlock) {
      this.#blocks.push(join(this.#chunks));
      this.#chunks = [];
    }
  }

  /** Every element added, in order, as one array. */
  toArray(): T[] {
    const last = this.#chunk;
    last.length = this.#filled;
    if (this.#blocks.length === 0 && this.#chunks.length === 0) return last;
    return join([...this.#blocks, ...this.#chunks, last]);
  }
}

/** Elements per chunk: small enough for a chunk to stay young (best of 64-16,000 on W2). */
const chunkLength = 256;
/** Chunks joined into a block before the next: bounds `concat`'s argument count. */
const chunksPerBlock = 4096;
/** A full-length, packed chunk to copy: `slice` allocates it in one step. */
const emptyChunk: readonly undefined[] = Array.from({ length: chunkLength }, () => undefined);

/** `parts` end to end, each copied once. */
function join<T>(parts: readonly T[][]): T[] {
  return ([] as T[]).concat(...parts);
}
