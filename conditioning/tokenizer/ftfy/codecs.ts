/**
 * The single-byte codecs ftfy tries when undoing mojibake, plus the UTF-8 decoders it uses.
 * Bytes are carried as "binary strings" (one UTF-16 unit per byte, 0..255) so that ftfy's
 * bytes regexes run as ordinary JavaScript regexes.
 */
import { CHARMAP_CODECS } from "../data/ftfy-tables.ts";

export interface CharmapCodec {
  name: string;
  /** Whole-string test: could `text` have been decoded from this codec? (`possible_encoding`) */
  canEncode(text: string): boolean;
  /** `text.encode(name)`; only valid when `canEncode(text)`. */
  encode(text: string): string;
  /** byte -> char, "" where the byte is undefined. */
  decodeTable: readonly string[];
}

function escapeClassChar(char: string): string {
  return `\\u{${char.codePointAt(0)!.toString(16)}}`;
}

function createCharmapCodec(name: string, table: string): CharmapCodec {
  const decodeTable = Array.from(table, (char) => (char === "\uffff" ? "" : char));
  const encodeMap = new Map<string, string>();
  for (let byte = 255; byte >= 0; byte--) {
    const char = decodeTable[byte];
    if (char) encodeMap.set(char, String.fromCharCode(byte));
  }
  // ftfy: "^[\x00-\x19\x1b-\x7f{bytes 0x80-0xff and 0x1a decoded}]*$"
  const extra = [...decodeTable.slice(0x80), decodeTable[0x1a]].filter(Boolean);
  const possible = new RegExp(
    `^[\\u{0}-\\u{19}\\u{1b}-\\u{7f}${extra.map(escapeClassChar).join("")}]*$`,
    "u",
  );
  return {
    name,
    decodeTable,
    canEncode: (text) => possible.test(text),
    encode(text) {
      let out = "";
      for (const char of text) {
        const code = char.charCodeAt(0);
        out += code < 0x80 && code !== 0x1a ? char : (encodeMap.get(char) ?? "");
      }
      return out;
    },
  };
}

export const CHARMAPS: readonly CharmapCodec[] = CHARMAP_CODECS.map(([name, table]) =>
  createCharmapCodec(name, table),
);

const byName = new Map(CHARMAPS.map((codec) => [codec.name, codec]));
export function charmap(name: string): CharmapCodec {
  const codec = byName.get(name);
  if (!codec) throw new Error(`unknown charmap ${name}`);
  return codec;
}

/** Strict (non-sloppy) windows-1252 decode of latin-1 text, or null when a byte is undefined. */
const CP1252_UNDEFINED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);
export function decodeStrictWindows1252(binary: string): string | null {
  const sloppy = charmap("sloppy-windows-1252").decodeTable;
  let out = "";
  for (let i = 0; i < binary.length; i++) {
    const byte = binary.charCodeAt(i);
    if (CP1252_UNDEFINED.has(byte)) return null;
    out += byte === 0x1a ? "\u001a" : sloppy[byte];
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function toBytes(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Python `bytes.decode("utf-8")` (strict), or null on a decode error. */
export function decodeUtf8(binary: string): string | null {
  try {
    return utf8.decode(toBytes(binary));
  } catch {
    return null;
  }
}

const SPECIAL_BYTES = /\xc0(?:\x80|$)|\xed(?:[\xa0-\xbf]|$)/;
const CESU8 = /^\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]/;

/** ftfy's "utf-8-variants" codec: UTF-8 plus Java's C0 80 NUL and CESU-8 surrogate pairs. */
export function decodeUtf8Variants(binary: string): string | null {
  let out = "";
  let rest = binary;
  while (rest.length > 0) {
    const match = SPECIAL_BYTES.exec(rest);
    if (!match) {
      const tail = decodeUtf8(rest);
      return tail === null ? null : out + tail;
    }
    if (match.index > 0) {
      const head = decodeUtf8(rest.slice(0, match.index));
      if (head === null) return null;
      out += head;
      rest = rest.slice(match.index);
      continue;
    }
    if (rest.charCodeAt(0) === 0xc0) {
      if (rest.length < 2) return null;
      out += "\u0000";
      rest = rest.slice(2);
      continue;
    }
    if (rest.length < 6 || !CESU8.test(rest)) return null;
    const b = (i: number) => rest.charCodeAt(i);
    out += String.fromCodePoint(
      ((b(1) & 0x0f) << 16) +
        ((b(2) & 0x3f) << 10) +
        ((b(4) & 0x0f) << 6) +
        (b(5) & 0x3f) +
        0x10000,
    );
    rest = rest.slice(6);
  }
  return out;
}
