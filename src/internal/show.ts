/** Short, readable text for a value, used in error messages and in `explain()`. */
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
  const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] ?? (value as object).constructor?.name;
  if (tag && tag !== "Object") return tag === "Promise" ? "a Promise" : `${tag} {...}`;
  if (depth > 1) return "{...}";
  const entries = Object.entries(value as object);
  if (entries.length > 4) return "{...}";
  return `{ ${entries.map(([k, v]) => `${k}: ${show(v, depth + 1)}`).join(", ")} }`;
}

/**
 * A function's name; an anonymous function shows its source when that is short
 * (`(x) => x * 2`), so a plan reads like the code that built it.
 */
export function nameOf(fn: Function, key?: string): string {
  // An inline arrow in `{ do: (e) => ... }` is named after its key: show its source instead.
  if (fn.name && fn.name !== key) return fn.name;
  const source = Function.prototype.toString.call(fn).replace(/\s+/g, " ");
  return source.length <= 40 ? source : "anonymous";
}
