/**
 * The source of an anonymous function as a plan shows it: one line, spaced
 * the same way whoever compiled it (tsc keeps the author's spacing; tsx and
 * bundlers strip it: `user=>({id:user.id})`), cut at `max` characters.
 */
export function excerpt(source: string, max = 60): string {
  const text = spaced(tokens(source));
  return text.length <= max ? text : `${text.slice(0, max - 3).trimEnd()}...`;
}

/** Punctuators, longest first, so `===` is one token and not `==` then `=`. */
const PUNCTUATORS = [">>>=", "...", "===", "!==", "**=", ">>>", "<<=", ">>=", "&&=", "||=", "??=", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>"];
/** Binary and assignment operators: a space on each side. */
const SPACED = new Set(["=>", "=", "===", "!==", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "??", "+", "-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>", ">>>", "+=", "-=", "*=", "/=", "%=", "**=", "&&=", "||=", "??=", "&=", "|=", "^=", "<<=", ">>=", ">>>=", "instanceof", "in", "of"]);
/** Words followed by a space when something follows them. */
const KEYWORDS = new Set(["return", "const", "let", "var", "async", "await", "typeof", "new", "throw", "void", "delete", "yield", "function", "if", "else", "for", "while", "case", "of", "in", "instanceof"]);
const WORD = /[\p{L}\p{N}_$]/u;

/** The source's tokens, strings and template literals whole; whitespace and comments dropped. */
function tokens(source: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      const start = i;
      let depth = 0; // ${ } nesting inside a template literal
      for (i++; i < source.length; i++) {
        const d = source[i]!;
        if (d === "\\") i++;
        else if (c === "`" && d === "$" && source[i + 1] === "{") (depth++, i++);
        else if (depth > 0 && d === "}") depth--;
        else if (depth === 0 && d === c) break;
      }
      out.push(source.slice(start, ++i));
    } else if (WORD.test(c)) {
      const start = i;
      while (i < source.length && WORD.test(source[i]!)) i++;
      out.push(source.slice(start, i));
    } else {
      const p = PUNCTUATORS.find((q) => source.startsWith(q, i)) ?? c;
      out.push(p);
      i += p.length;
    }
  }
  // A last `;` in a block and a trailing comma are dropped, as compilers that reprint the code drop them.
  return withoutBodyParens(withParameterParens(out)).filter((t, k, all) => !((t === ";" && all[k + 1] === "}") || (t === "," && [")", "]", "}"].includes(all[k + 1]!))));
}

/** `=> (a ? b : c)` as `=> a ? b : c`: parentheses around an arrow's whole body (not an object literal) are dropped, as esbuild drops them. */
function withoutBodyParens(t: string[]): string[] {
  const arrow = t.indexOf("=>");
  if (arrow < 0 || t[arrow + 1] !== "(" || t[arrow + 2] === "{" || t.at(-1) !== ")") return t;
  let depth = 0;
  for (let k = arrow + 1; k < t.length; k++) {
    if (t[k] === "(") depth++;
    else if (t[k] === ")" && --depth === 0) return k === t.length - 1 ? [...t.slice(0, arrow + 1), ...t.slice(arrow + 2, -1)] : t;
  }
  return t;
}

/** `x => ...` as `(x) => ...`: the one parameter of an arrow in parentheses, as formatters write it. */
function withParameterParens(t: string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < t.length; k++) {
    const bare = t[k + 1] === "=>" && WORD.test(t[k]![0]!) && t[k - 1] !== ")";
    out.push(...(bare ? ["(", t[k]!, ")"] : [t[k]!]));
  }
  return out;
}

/** The tokens joined with the spacing formatters use: `(user) => ({ id: user.id, name: user.name })`. */
function spaced(t: readonly string[]): string {
  const OPENERS = new Set(["(", "[", "{", ",", ";", "?", ":"]);
  const unary = t.map((token, k) => ["-", "+", "!", "~"].includes(token) && (k === 0 || SPACED.has(t[k - 1]!) || KEYWORDS.has(t[k - 1]!) || OPENERS.has(t[k - 1]!) || ["!", "~"].includes(t[k - 1]!)));
  let text = t[0] ?? "";
  let ternaries = 0; // `?` waiting for their `:`
  for (let k = 1; k < t.length; k++) {
    const token = t[k]!;
    const before = t[k - 1]!;
    let gap: string;
    if (unary[k - 1]) gap = "";
    else if ([",", ";", ")", "]", ".", "?."].includes(token)) gap = "";
    else if (token === ":") gap = ternaries > 0 ? (ternaries--, " ") : "";
    else if (token === "?") (ternaries++, (gap = " "));
    else if (SPACED.has(token) && !unary[k]) gap = " ";
    else if (before === "{") gap = token === "}" ? "" : " ";
    else if (token === "}") gap = " ";
    else if (SPACED.has(before) || KEYWORDS.has(before) || [",", ";", ":", "?"].includes(before)) gap = " ";
    else if (token === "{" && (before === ")" || WORD.test(before.at(-1)!))) gap = " ";
    else gap = WORD.test(before.at(-1)!) && WORD.test(token[0]!) ? " " : "";
    text += gap + token;
  }
  return text;
}
