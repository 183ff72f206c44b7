import { show } from "./show.js";

/** Throws unless `value` is an integer >= `min` (`Infinity` allowed when `infinite`). */
export function integer(name: string, value: unknown, min: number, infinite = false): number {
  const ok =
    typeof value === "number" &&
    value >= min &&
    (Number.isSafeInteger(value) || (infinite && value === Infinity));
  if (!ok) {
    const kind = infinite ? `an integer >= ${min} or Infinity` : `an integer >= ${min}`;
    throw new (typeof value === "number" ? RangeError : TypeError)(
      `\`${name}\` must be ${kind}, got ${show(value)}`,
    );
  }
  return value;
}

/** Throws unless `value` is a function. */
export function func<F extends Function>(name: string, value: unknown): F {
  if (typeof value !== "function") {
    throw new TypeError(`\`${name}\` must be a function, got ${show(value)}`);
  }
  return value as F;
}

/** Throws unless `value` is a boolean. */
export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`\`${name}\` must be a boolean, got ${show(value)}`);
  return value;
}

/**
 * Checks an options object: `undefined` gives `{}`; anything that is not a plain
 * object, or that has a key outside `known`, throws, naming the operation.
 */
export function options<O extends object>(operation: string, value: unknown, known: readonly string[]): Partial<O> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`\`${operation}\` options must be an object, got ${show(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const expected = known.length ? `expected ${known.map((k) => `\`${k}\``).join(", ")}` : "it takes none";
      throw new TypeError(`unknown option \`${key}\` in \`${operation}\` options; ${expected}`);
    }
  }
  return value as Partial<O>;
}
