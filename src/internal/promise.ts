/** True when `value` is a thenable: the only values the async runner awaits. */
export function isPromise(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** True for `async function` and `async function*` callbacks, known async before they are called. */
export function isAsyncFunction(fn: unknown): boolean {
  if (typeof fn !== "function") return false;
  const kind = fn.constructor?.name;
  return kind === "AsyncFunction" || kind === "AsyncGeneratorFunction";
}
