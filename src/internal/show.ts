import { excerpt } from "./excerpt.js";

/**
 * Short, readable text for a value, used in error messages and in `explain()`:
 * bounded whatever the value (long strings cut, at most a few entries two
 * levels deep), and safe for any object (no prototype, throwing getters).
 */
export function show(value: unknown, depth = 0): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "boolean":
    case "undefined":
      return String(value);
    case "symbol":
      return value.toString();
    case "function":
      return nameOf(value);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) {
    if (depth > 1 || value.length > 5) return `Array(${value.length})`;
    return `[${value.map((v) => show(v, depth + 1)).join(", ")}]`;
  }
  try {
    const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] ?? (value as object).constructor?.name;
    if (typeof tag === "string" && tag !== "Object") return tag === "Promise" ? "a Promise" : `${tag} {...}`;
    if (depth > 1) return "{...}";
    const entries = Object.entries(value as object);
    if (entries.length === 0) return "{}";
    if (entries.length > 4) return "{...}";
    return `{ ${entries.map(([k, v]) => `${k}: ${show(v, depth + 1)}`).join(", ")} }`;
  } catch {
    return "an object"; // a proxy or a getter that throws
  }
}

/**
 * A function's name; an anonymous function shows an excerpt of its source,
 * spaced the same whoever compiled it and cut at 60 characters
 * (`(user) => ({ id: user.id, name: user.name })`), so a plan reads like the
 * code that built it.
 */
export function nameOf(fn: Function, key?: string): string {
  // An inline arrow in `{ do: (e) => ... }` is named after its key: show its source instead.
  if (fn.name && fn.name !== key) return fn.name;
  return excerpt(Function.prototype.toString.call(fn));
}

/**
 * What a source looks like, never what it holds (a plan is logged, and rows
 * hold emails and keys): `Array(20000)`, `Set(3)`, `AsyncGenerator`, a pull function by name.
 */
export function showShape(source: unknown): string {
  if (typeof source === "function") return show(source);
  if (Array.isArray(source)) return `Array(${source.length})`;
  if (typeof source === "string") return `String(${source.length})`;
  if (source === null || typeof source !== "object") return show(source);
  const o = source as { size?: unknown; length?: unknown; constructor?: { name?: unknown }; [Symbol.toStringTag]?: unknown; [Symbol.asyncIterator]?: unknown };
  const tag = o[Symbol.toStringTag] ?? o.constructor?.name;
  const name = typeof tag === "string" && tag !== "Object" ? tag : typeof o[Symbol.asyncIterator] === "function" ? "AsyncIterable" : "Iterable";
  const size = typeof o.size === "number" ? o.size : typeof o.length === "number" ? o.length : undefined;
  return size === undefined ? name : `${name}(${size})`;
}
