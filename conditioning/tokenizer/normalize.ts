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
  /** For each UTF-16 unit of `text`: the [start, end) UTF-16 range of the input it came from. */
  sourceStart: Int32Array;
  sourceEnd: Int32Array;
}

/**
 * Greedy alignment of the cleaned text to the input: each character maps to the next
 * identical (or NFKC-identical) input character within a small window; characters ftfy or
 * the HTML unescaper produced map to the input stretch between their matched neighbours.
 * A matched character's source runs to where the next cleaned character's starts, so input
 * that was removed (an entity's tail, an escape sequence) belongs to the character before it.
 */
function alignCleaned(input: string, cleaned: string): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(cleaned.length + 1);
  const end = new Int32Array(cleaned.length + 1);
  if (input === cleaned) {
    for (let i = 0; i <= cleaned.length; i++) {
      start[i] = i;
      end[i] = i + 1;
    }
    return { start, end };
  }
  const WINDOW = 40;
  const matched = new Uint8Array(cleaned.length + 1);
  const same = (source: string, char: string) =>
    source === char || source.normalize("NFKC") === char;
  const chars = Array.from(cleaned);
  let cursor = 0;
  let j = 0;
  for (let c = 0; c < chars.length; c++) {
    const char = chars[c];
    let found = -1;
    let k = cursor;
    // Text that replaced something (the previous character, unmatched) consumed at least one
    // input character: do not match its successor at the very same place.
    if (c > 0 && !matched[j - 1] && start[j - 1] === cursor && k < input.length) {
      k += input.codePointAt(k)! > 0xffff ? 2 : 1;
    }
    for (let steps = 0; k < input.length && steps < WINDOW; steps++) {
      const source = String.fromCodePoint(input.codePointAt(k)!);
      if (same(source, char)) {
        found = k;
        break;
      }
      k += source.length;
    }
    if (found > cursor && c + 1 < chars.length) {
      // Skipping input to match here is wrong if one of the next characters matches the
      // skipped part (this character was then produced by a fix, like "\r" -> "\n").
      const ahead = chars.slice(c + 1, c + 4);
      for (let m = cursor; m < found && found >= 0; ) {
        const source = String.fromCodePoint(input.codePointAt(m)!);
        if (ahead.some((next) => same(source, next))) found = -1;
        m += source.length;
      }
    }
    const at = found >= 0 ? found : cursor;
    for (let u = 0; u < char.length; u++) {
      start[j + u] = at;
      matched[j + u] = found >= 0 ? 1 : 0;
    }
    if (found >= 0) cursor = found + (input.codePointAt(found)! > 0xffff ? 2 : 1);
    j += char.length;
  }
  start[cleaned.length] = input.length;
  matched[cleaned.length] = 1;
  let nextMatched = input.length;
  for (let u = cleaned.length - 1; u >= 0; u--) {
    end[u] = Math.max(start[u], matched[u] ? start[u + 1] : nextMatched);
    if (matched[u]) nextMatched = start[u];
  }
  return { start, end };
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
  const sourceStart = new Int32Array(lowered.length);
  const sourceEnd = new Int32Array(lowered.length);
  let out = 0;
  for (let i = 0; i < body.length; i++) {
    const width = pyLower(body[i]).length;
    // A character's source runs to where the next cleaned character's source starts, so
    // text ftfy removed or rewrote (entities, escapes) belongs to the character before it.
    const start = aligned.start[keptStart[a + i]];
    const end = Math.max(start, aligned.end[keptEnd[a + i] - 1]);
    for (let u = 0; u < width && out < lowered.length; u++) {
      sourceStart[out] = start;
      sourceEnd[out++] = end;
    }
  }
  return { text: lowered, sourceStart, sourceEnd };
}
