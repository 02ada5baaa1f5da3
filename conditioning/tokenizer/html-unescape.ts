/**
 * Python's `html.unescape` (CPython 3.11 `html/__init__.py`): numeric references with or
 * without `;`, the HTML5 named-reference table including the legacy names without `;`
 * (`&amp`, `&not`), longest-prefix matching for names without `;`, and the HTML5 rules
 * for invalid code points.
 */
import { HTML5_ENTITIES, INVALID_CHARREFS, INVALID_CODEPOINTS } from "./data/html5-entities.ts";

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(_match: string, s: string): string {
  if (s[0] === "#") {
    const hex = s[1] === "x" || s[1] === "X";
    const digits = (hex ? s.slice(2) : s.slice(1)).replace(/;$/, "");
    const trimmed = digits.replace(/^0+/, "");
    // Anything longer than 8 significant digits is far above U+10FFFF.
    const num =
      trimmed.length > 8
        ? Number.POSITIVE_INFINITY
        : Number.parseInt(trimmed || "0", hex ? 16 : 10);
    const fixed = INVALID_CHARREFS.get(String(num));
    if (fixed !== undefined) return fixed;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return "\ufffd";
    if (INVALID_CODEPOINTS.has(num)) return "";
    return String.fromCodePoint(num);
  }
  const named = HTML5_ENTITIES.get(s);
  if (named !== undefined) return named;
  for (let x = s.length - 1; x > 1; x--) {
    const prefix = HTML5_ENTITIES.get(s.slice(0, x));
    if (prefix !== undefined) return prefix + s.slice(x);
  }
  return `&${s}`;
}

export function htmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(CHARREF, replaceCharref);
}
