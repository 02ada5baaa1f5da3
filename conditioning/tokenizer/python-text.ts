/**
 * Python `str` semantics the CLIP reference relies on, in JavaScript.
 *
 * - `pyStrip`: `str.strip()` strips `str.isspace()` characters (includes U+001C..U+001F and
 *   U+0085, excludes U+FEFF - unlike `String.prototype.trim`).
 * - `collapseWhitespace`: `regex.sub(r"\s+", " ", text)` with the `regex` module, whose `\s`
 *   is the Unicode White_Space property (includes U+0085, excludes U+FEFF and U+001C..U+001F).
 * - `pyLower`: `str.lower()` of CPython 3.11 (Unicode 14). JavaScript's `toLowerCase` agrees
 *   (full mappings, Final_Sigma) except for capitals added after Unicode 14, which Python
 *   3.11 leaves unchanged; those are listed in `NEWER_THAN_UNICODE_14_CAPITALS`.
 */
import { PY_SPACE_CLASS } from "./data/ftfy-tables.ts";

/** `regex` module `\s` (Unicode White_Space). */
export const RX_SPACE_CLASS =
  "\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const RX_SPACE_RUN = new RegExp(`[${RX_SPACE_CLASS}]+`, "gu");
const PY_STRIP = new RegExp(`^[${PY_SPACE_CLASS}]+|[${PY_SPACE_CLASS}]+$`, "gu");
const PY_SPACE_CHAR = new RegExp(`^[${PY_SPACE_CLASS}]$`, "u");
const RX_SPACE_CHAR = new RegExp(`^[${RX_SPACE_CLASS}]$`, "u");

/** Capital letters Python 3.11 (Unicode 14) does not lowercase but newer ICU does. */
const NEWER_THAN_UNICODE_14_CAPITALS =
  /[\u{1c89}\u{a7cb}\u{a7cc}\u{a7ce}\u{a7d2}\u{a7d4}\u{a7da}\u{a7dc}\u{10d50}-\u{10d65}\u{16ea0}-\u{16eb8}]/u;

export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, "");
}

export function isPySpace(char: string): boolean {
  return PY_SPACE_CHAR.test(char);
}

export function isRegexSpace(char: string): boolean {
  return RX_SPACE_CHAR.test(char);
}

export function collapseWhitespace(text: string): string {
  return text.replace(RX_SPACE_RUN, " ");
}

export function pyLower(text: string): string {
  if (!NEWER_THAN_UNICODE_14_CAPITALS.test(text)) return text.toLowerCase();
  let out = "";
  for (const char of text)
    out += NEWER_THAN_UNICODE_14_CAPITALS.test(char) ? char : char.toLowerCase();
  // Per-character lowering loses Final_Sigma context; redo sigma with the full string.
  return fixFinalSigma(text, out);
}

function fixFinalSigma(original: string, lowered: string): string {
  if (!original.includes("\u03a3")) return lowered;
  const reference = original.toLowerCase();
  const chars = Array.from(lowered);
  const refChars = Array.from(reference);
  if (chars.length !== refChars.length) return lowered;
  for (let i = 0; i < chars.length; i++) {
    if (refChars[i] === "\u03c2" && chars[i] === "\u03c3") chars[i] = "\u03c2";
  }
  return chars.join("");
}
