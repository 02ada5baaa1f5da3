import { PY_WS_CLASS } from "./py-text.ts";

/**
 * Python `re.split(r"\s*\bBREAK\b\s*", text)` with Python's Unicode `\s` and `\b`
 * (`caféBREAK`, `日本BREAK語`, `_BREAK_`, `1BREAK2` do not split).
 */
const BREAK_SOURCE = new RegExp(
  `[${PY_WS_CLASS}]*(?<![\\p{L}\\p{N}_])BREAK(?![\\p{L}\\p{N}_])[${PY_WS_CLASS}]*`,
  "u",
);
const BREAK_RE_GLOBAL = new RegExp(BREAK_SOURCE.source, "gu");

export function splitBreak(text: string): string[] {
  if (!text.includes("BREAK")) return [text];
  return text.split(BREAK_RE_GLOBAL);
}
