import { showShape } from "../internal/show.js";
import { operatorOf } from "../operators/index.js";
import type { Plan } from "../plan.js";

/**
 * The plan as it reads in code: the source, then one operation per line with
 * its arguments (functions by name, options only where they differ from the default).
 *
 * ```text
 * stream(query)
 *   .map(toUser)
 *   .group(100)
 * ```
 */
export function explain(plan: Plan): string {
  const lines = [`stream(${sourceText(plan.source)})`];
  for (const node of plan.nodes) lines.push(`  .${operatorOf(node).explain(node)}`);
  return lines.join("\n");
}

/**
 * A source as `explain()` shows it: its shape, never its elements (a plan is
 * logged, and rows hold emails and keys): `Array(20000)`, `Set(3)`,
 * `AsyncGenerator`, a pull function by name. Another stream shows its own plan, indented.
 */
function sourceText(source: unknown): string {
  const inner = source as { explain?: unknown; [Symbol.asyncIterator]?: unknown };
  if (typeof inner.explain !== "function" || typeof inner[Symbol.asyncIterator] !== "function") return showShape(source);
  const text = (inner.explain as () => string)();
  return `\n${text.replace(/^/gm, "    ")}\n  `;
}
