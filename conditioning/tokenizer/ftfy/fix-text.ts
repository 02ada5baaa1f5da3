/**
 * `ftfy.fix_text` (ftfy 6.3.1) with its default configuration, as OpenAI's CLIP tokenizer
 * calls it: line-by-line segments, HTML entities only while no segment so far had a `<`,
 * mojibake repair (`fix_encoding`), C1 controls, Latin ligatures, character width, curly
 * quotes, line breaks, surrogates, terminal escapes, control characters, NFC - repeated
 * until the segment stops changing.
 */
import { FTFY_REGEX_SOURCES } from "../data/ftfy-tables.ts";
import {
  CHARMAPS,
  charmap,
  decodeStrictWindows1252,
  decodeUtf8,
  decodeUtf8Variants,
} from "./codecs.ts";
import {
  fixC1Controls,
  fixCharacterWidth,
  fixLatinLigatures,
  fixLineBreaks,
  fixSurrogates,
  hasAlteredUtf8,
  hasC1Controls,
  removeControlChars,
  removeTerminalEscapes,
  replaceLossySequences,
  restoreByteA0,
  uncurlQuotes,
  unescapeHtml,
} from "./fixes.ts";

const BADNESS_RE = new RegExp(FTFY_REGEX_SOURCES.BADNESS, "u");
const UTF8_DETECTOR_RE = new RegExp(FTFY_REGEX_SOURCES.UTF8_DETECTOR, "gu");
const UTF8_DETECTOR_TEST = new RegExp(FTFY_REGEX_SOURCES.UTF8_DETECTOR, "u");
// biome-ignore lint/suspicious/noControlCharactersInRegex: ftfy's ASCII test spans U+0000..U+007F
const ASCII_ONLY = /^[\u0000-\u007f]*$/;

/** ftfy.badness.is_bad: does the text contain a sequence that looks like mojibake? */
export function isBad(text: string): boolean {
  return BADNESS_RE.test(text);
}

function decodeInconsistentUtf8(text: string): string {
  return text.replace(UTF8_DETECTOR_RE, (substr) =>
    substr.length < text.length && isBad(substr) ? fixEncoding(substr) : substr,
  );
}

function fixEncodingOneStep(text: string): string {
  if (text.length === 0 || ASCII_ONLY.test(text) || !isBad(text)) return text;
  const possible: string[] = [];
  for (const codec of CHARMAPS) {
    if (!codec.canEncode(text)) continue;
    possible.push(codec.name);
    let bytes = codec.encode(text);
    if (codec.name !== "macroman" && hasAlteredUtf8(bytes)) bytes = restoreByteA0(bytes);
    if (codec.name.startsWith("sloppy")) bytes = replaceLossySequences(bytes);
    const variants = bytes.includes("\xed") || bytes.includes("\xc0");
    const fixed = variants ? decodeUtf8Variants(bytes) : decodeUtf8(bytes);
    if (fixed !== null) return fixed;
  }
  if (UTF8_DETECTOR_TEST.test(text)) {
    const fixed = decodeInconsistentUtf8(text);
    if (fixed !== text) return fixed;
  }
  if (possible.includes("latin-1")) {
    // ftfy checks for "windows-1252", which is never in the list: always this branch.
    const fixed = decodeStrictWindows1252(charmap("latin-1").encode(text));
    if (fixed !== null && fixed !== text) return fixed;
  }
  if (hasC1Controls(text)) return fixC1Controls(text);
  return text;
}

/** ftfy.fix_encoding: repeat the one-step repair until nothing changes. */
export function fixEncoding(text: string): string {
  for (;;) {
    const fixed = fixEncodingOneStep(text);
    if (fixed === text) return fixed;
    text = fixed;
  }
}

function fixSegment(text: string, unescapeEntities: boolean): string {
  for (;;) {
    const original = text;
    if (unescapeEntities) text = unescapeHtml(text);
    text = fixEncoding(text);
    text = fixC1Controls(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize("NFC");
    if (text === original) return text;
  }
}

const MAX_DECODE_LENGTH = 1_000_000;
/** Printable ASCII without "&" (plus tab, newline, form feed): no fixer can change it. */
const UNCHANGED_ASCII = /^[\t\n\f\u0020-\u0025\u0027-\u007e]*$/;

/** ftfy.fix_text(text) with default settings. */
export function fixText(text: string): string {
  if (UNCHANGED_ASCII.test(text)) return text;
  let out = "";
  let pos = 0;
  let unescapeEntities = true;
  const length = text.length;
  while (pos < length) {
    let end = text.indexOf("\n", pos) + 1;
    if (end === 0) end = length;
    if (end - pos > MAX_DECODE_LENGTH) end = pos + MAX_DECODE_LENGTH;
    const segment = text.slice(pos, end);
    if (unescapeEntities && segment.includes("<")) unescapeEntities = false;
    out += fixSegment(segment, unescapeEntities);
    pos = end;
  }
  return out;
}
