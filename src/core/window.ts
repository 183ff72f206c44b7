/**
 * The times of the last `upTo` emissions, oldest first, in a ring that grows as
 * emissions come (a huge `upTo` costs nothing until it is used).
 */
export class Window {
  readonly #size: number;
  readonly #times: number[] = [];
  #oldest = 0;
  constructor(size: number) {
    this.#size = size;
  }
  /** When the next emission may go: now if the window is not full, else the oldest emission + `per`. */
  earliest(per: number): number {
    return this.#times.length < this.#size ? -Infinity : this.#times[this.#oldest]! + per;
  }
  record(time: number): void {
    if (this.#times.length < this.#size) {
      this.#times.push(time);
    } else {
      this.#times[this.#oldest] = time;
      this.#oldest = (this.#oldest + 1) % this.#size;
    }
  }
}
