/** A promise settled by hand, for concurrency tests. */
export class Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  settled = false;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = (v) => ((this.settled = true), resolve(v));
      this.reject = (e) => ((this.settled = true), reject(e));
    });
  }
}
