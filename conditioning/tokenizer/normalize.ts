/**
 * The two normalisation pipelines, as plain string functions (the fast path) and with an
 * offset map back into the caller's text (the slower path behind `encodeWithOffsets`).
 *
 * - openai: `whitespace_clean(basic_clean(text)).lower()` of OpenAI's `SimpleTokenizer`:
 *   ftfy.fix_text -> html.unescape twice -> strip -> `\s+` -> " " -> strip -> lower.
 * - hf: the HF fast tokenizer's normalizer: NFC -> `\s+` -> " " -> lowercase (no ftfy, no
 *   HTML unescaping; leading/trailing whitespace is dropped by the pre-tokenizer anyway).
 */
import { fixText } from "./ftfy/fix-text.ts";
import { htmlUnescape } from "./html-unescape.ts";
import { collapseWhitespace, isPySpace, isRegexSpace, pyLower, pyStrip } from "./python-text.ts";

export type NormalizationMode = "openai" | "hf";

function cleanStage(text: string, mode: NormalizationMode): string {
  if (mode === "hf") return text.normalize("NFC");
  return htmlUnescape(htmlUnescape(fixText(text)));
}

export function normalizeText(text: string, mode: NormalizationMode): string {
  if (mode === "hf") return pyLower(collapseWhitespace(text.normalize("NFC")));
  return pyLower(pyStrip(collapseWhitespace(pyStrip(cleanStage(text, mode)))));
}

export interface NormalizedWithOffsets {
  text: string;
  /** For each UTF-16 position of `text` (and one past the end): UTF-16 index in the input. */
  sourceIndex: Int32Array;
}

/**
 * Greedy alignment of the cleaned text to the input: each character maps to the next
 * identical (or NFKC-identical) input character within a small window; characters ftfy or
 * the HTML unescaper produced map to the input position where the unmatched stretch starts.
 */
function alignCleaned(input: string, cleaned: string): Int32Array {
  const map = new Int32Array(cleaned.length + 1);
  if (input === cleaned) {
    for (let i = 0; i <= cleaned.length; i++) map[i] = i;
    return map;
  }
  const WINDOW = 40;
  let cursor = 0;
  let j = 0;
  for (const char of cleaned) {
    let found = -1;
    let k = cursor;
    for (let steps = 0; k < input.length && steps < WINDOW; steps++) {
      const cp = input.codePointAt(k)!;
      const source = String.fromCodePoint(cp);
      if (source === char || source.normalize("NFKC") === char) {
        found = k;
        break;
      }
      k += source.length;
    }
    const at = found >= 0 ? found : cursor;
    for (let u = 0; u < char.length; u++) map[j + u] = at;
    if (found >= 0) cursor = found + (input.codePointAt(found)! > 0xffff ? 2 : 1);
    j += char.length;
  }
  map[cleaned.length] = input.length;
  return map;
}

export function normalizeWithOffsets(text: string, mode: NormalizationMode): NormalizedWithOffsets {
  const cleaned = cleanStage(text, mode);
  const aligned = alignCleaned(text, cleaned);
  // strip / collapse / strip, tracking cleaned positions per output unit.
  const chars = Array.from(cleaned);
  const starts: number[] = [];
  let pos = 0;
  for (const char of chars) {
    starts.push(pos);
    pos += char.length;
  }
  let lo = 0;
  let hi = chars.length;
  if (mode === "openai") {
    while (lo < hi && isPySpace(chars[lo])) lo++;
    while (hi > lo && isPySpace(chars[hi - 1])) hi--;
  }
  const kept: string[] = [];
  const keptStart: number[] = [];
  const keptEnd: number[] = [];
  for (let i = lo; i < hi; i++) {
    const space = isRegexSpace(chars[i]);
    if (space && i > lo && isRegexSpace(chars[i - 1])) continue;
    kept.push(space ? " " : chars[i]);
    keptStart.push(starts[i]);
    keptEnd.push(starts[i] + chars[i].length);
  }
  let a = 0;
  let b = kept.length;
  if (mode === "openai") {
    while (a < b && isPySpace(kept[a])) a++;
    while (b > a && isPySpace(kept[b - 1])) b--;
  }
  const body = kept.slice(a, b);
  const lowered = pyLower(body.join(""));
  const sourceIndex = new Int32Array(lowered.length + 1);
  let out = 0;
  for (let i = 0; i < body.length; i++) {
    const width = pyLower(body[i]).length;
    const source = aligned[keptStart[a + i]];
    for (let u = 0; u < width && out < lowered.length; u++) sourceIndex[out++] = source;
  }
  const end = b > a ? aligned[keptEnd[b - 1]] : aligned[0];
  while (out <= lowered.length) sourceIndex[out++] = end;
  return { text: lowered, sourceIndex };
}
