/** The individual fixers of ftfy 6.3.1 (`ftfy/fixes.py`), same names and behaviour. */
import {
  FTFY_REGEX_SOURCES,
  FTFY_UPPER_ENTITIES,
  LIGATURES,
  WIDTH_MAP,
} from "../data/ftfy-tables.ts";
import { HTML5_ENTITIES } from "../data/html5-entities.ts";
import { htmlUnescape } from "../html-unescape.ts";
import { charmap } from "./codecs.ts";

const HTML_ENTITY_RE = new RegExp(FTFY_REGEX_SOURCES.HTML_ENTITY, "gu");

/** ftfy HTML_ENTITIES: every html5 name ending in ';' plus the all-caps variants. */
function ftfyEntity(entity: string): string | undefined {
  const name = entity.slice(1);
  if (name.endsWith(";")) {
    const value = HTML5_ENTITIES.get(name);
    if (value !== undefined) return value;
  }
  return FTFY_UPPER_ENTITIES.get(entity);
}

export function unescapeHtml(text: string): string {
  return text.replace(HTML_ENTITY_RE, (entity) => {
    const known = ftfyEntity(entity);
    if (known !== undefined) return known;
    if (entity.startsWith("&#")) {
      const unescaped = htmlUnescape(entity);
      return unescaped.includes(";") ? entity : unescaped;
    }
    return entity;
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches the ESC of ANSI sequences
const ANSI_RE = /\u001b\[((?:\d|;)*)([a-zA-Z])/g;
export function removeTerminalEscapes(text: string): string {
  return text.replace(ANSI_RE, "");
}

const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
export function uncurlQuotes(text: string): string {
  return text.replace(DOUBLE_QUOTE_RE, '"').replace(SINGLE_QUOTE_RE, "'");
}

function translate(text: string, map: ReadonlyMap<string, string>, test: RegExp): string {
  if (!test.test(text)) return text;
  let out = "";
  for (const char of text) out += map.get(char) ?? char;
  return out;
}

const LIGATURE_TEST = new RegExp(`[${[...LIGATURES.keys()].join("")}]`, "u");
export function fixLatinLigatures(text: string): string {
  return translate(text, LIGATURES, LIGATURE_TEST);
}

const WIDTH_TEST = /[\u3000\uff01-\uffef]/;
export function fixCharacterWidth(text: string): string {
  return translate(text, WIDTH_MAP, WIDTH_TEST);
}

export function fixLineBreaks(text: string): string {
  return text
    .replaceAll("\r\n", "\n")
    .replaceAll("\r", "\n")
    .replaceAll("\u2028", "\n")
    .replaceAll("\u2029", "\n")
    .replaceAll("\u0085", "\n");
}

/** Lone surrogates become U+FFFD (JavaScript strings already join valid pairs). */
const LONE_SURROGATE_RE = /[\ud800-\udfff]/gu;
export function fixSurrogates(text: string): string {
  return text.replace(LONE_SURROGATE_RE, "\ufffd");
}

const CONTROL_CHARS_RE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ftfy removes exactly these controls
  /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
export function removeControlChars(text: string): string {
  return text.replace(CONTROL_CHARS_RE, "");
}

const C1_CONTROL_RE = /[\u0080-\u009f]/g;
export function hasC1Controls(text: string): boolean {
  return /[\u0080-\u009f]/.test(text);
}
export function fixC1Controls(text: string): string {
  const table = charmap("sloppy-windows-1252").decodeTable;
  return text.replace(C1_CONTROL_RE, (char) => table[char.charCodeAt(0)]);
}

const A_GRAVE_WORD_RE = new RegExp(FTFY_REGEX_SOURCES.A_GRAVE_WORD, "gu");
const ALTERED_UTF8_RE = new RegExp(FTFY_REGEX_SOURCES.ALTERED_UTF8, "gu");
const ALTERED_UTF8_TEST = new RegExp(FTFY_REGEX_SOURCES.ALTERED_UTF8, "u");
const LOSSY_UTF8_RE = new RegExp(FTFY_REGEX_SOURCES.LOSSY_UTF8, "gu");

export function hasAlteredUtf8(binary: string): boolean {
  return ALTERED_UTF8_TEST.test(binary);
}

export function restoreByteA0(binary: string): string {
  return binary
    .replace(A_GRAVE_WORD_RE, "\xc3\xa0 ")
    .replace(ALTERED_UTF8_RE, (match) => match.replaceAll(" ", "\xa0"));
}

export function replaceLossySequences(binary: string): string {
  return binary.replace(LOSSY_UTF8_RE, "\xef\xbf\xbd");
}
