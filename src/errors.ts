/**
 * The error of a call that did not settle within its `timeout` (on `map` and
 * `do`). Its name is "TimeoutError", as the DOMException of
 * `AbortSignal.timeout` is, so code that checks `error.name` treats both alike;
 * `catch(TimeoutError)` catches it by class.
 *
 * @example Skip what does not answer in time
 * ```ts
 * const hang = () => new Promise<number>(() => {});
 * await stream([1]).map(hang, { timeout: 10 }).catch(TimeoutError).toArray(); // → []
 * ```
 */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}
