/**
 * Python-compatible text primitives used by the prompt parsers: the reference parsers run on
 * CPython, whose `re` module and `float()` are Unicode-aware in ways JavaScript's are not.
 */

/** Characters for which Python's `str.isspace()` is true (and so `re`'s `\s` matches). */
export const PY_WS_CLASS =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const WS_RE = new RegExp(`^[${PY_WS_CLASS}]$`, "u");
const WORD_RE = /^[\p{L}\p{N}_]$/u;
const DECIMAL_RE = /^\p{Nd}$/u;

/** Python `str.isspace()` for one code point. */
export function isPyWhitespace(ch: string): boolean {
  return WS_RE.test(ch);
}

/** Python `re` word character (`\w`, used by `\b`): letters, numbers and underscore. */
export function isPyWordChar(ch: string | undefined): boolean {
  return ch !== undefined && WORD_RE.test(ch);
}

/** Code point before `index` in `text` (surrogate-aware), or undefined at the start. */
export function codePointBefore(text: string, index: number): string | undefined {
  if (index <= 0) return undefined;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(index - 2, index);
  }
  return text[index - 1];
}

/** Code point starting at `index`, or undefined at the end. */
export function codePointAt(text: string, index: number): string | undefined {
  if (index >= text.length) return undefined;
  const cp = text.codePointAt(index)!;
  return String.fromCodePoint(cp);
}

/** Value 0-9 of a Unicode decimal digit (category Nd; digits come in runs of ten from 0). */
function decimalValue(cp: number): number {
  let start = cp;
  while (start > 0 && DECIMAL_RE.test(String.fromCodePoint(start - 1))) start -= 1;
  return (cp - start) % 10;
}

const FLOAT_RE = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const SPECIAL_RE = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * Python's `float(text)`: surrounding whitespace, Unicode decimal digits, underscores between
 * digits, `inf`/`infinity`/`nan` in any case. Returns undefined where Python raises ValueError.
 */
export function pyFloat(text: string): number | undefined {
  let ascii = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 128) ascii += ch;
    else if (isPyWhitespace(ch)) ascii += " ";
    else if (DECIMAL_RE.test(ch)) ascii += String(decimalValue(cp));
    else return undefined;
  }
  // float() strips ASCII " \t\n\r\v\f" (not \x1c-\x1f) and any non-ASCII whitespace
  ascii = ascii.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, "");
  const special = SPECIAL_RE.exec(ascii);
  if (special) {
    if (special[2].toLowerCase() === "nan") return Number.NaN;
    return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!FLOAT_RE.test(ascii)) return undefined;
  return Number(ascii.replaceAll("_", ""));
}

/** Python's `repr(str)`, as used in reference error messages. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && /[\p{C}\p{Z}]/u.test(ch)) {
      if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, "0")}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

/** Python `str.expandtabs(8)` (pyparsing's `parse_string` applies it to its input). */
export function pyExpandTabs(text: string): string {
  if (!text.includes("\t")) return text;
  let out = "";
  let column = 0;
  for (const ch of text) {
    if (ch === "\t") {
      const pad = 8 - (column % 8);
      out += " ".repeat(pad);
      column += pad;
    } else {
      out += ch;
      column = ch === "\n" || ch === "\r" ? 0 : column + 1;
    }
  }
  return out;
}
