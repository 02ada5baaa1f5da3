/**
 * The CLIP tokenizer: normalisation (openai | hf) -> CLIP pre-tokenizer -> byte-level BPE.
 * `encode` is exactly OpenAI's `SimpleTokenizer.encode` in the default `openai` mode.
 */
import { ClipEdgeError } from "../errors.ts";
import { createBpe } from "./bpe.ts";
import { bytesToUnicode, unicodeToBytes } from "./byte-encoder.ts";
import {
  parseModelFiles,
  parseSpecialTokens,
  type TokenizerConfigFiles,
  type TokenizerFiles,
} from "./files.ts";
import { type NormalizationMode, normalizeText, normalizeWithOffsets } from "./normalize.ts";
import { createPreTokenizer } from "./pre-tokenize.ts";

export type { NormalizationMode } from "./normalize.ts";

export interface EncodeOptions {
  /** "openai" (default): ftfy + HTML unescape like OpenAI CLIP; "hf": the HF fast tokenizer. */
  mode?: NormalizationMode;
}

export interface EncodeForModelOptions extends EncodeOptions {
  /** Sequence length including SOT and EOT (default: the tokenizer's, 77 for CLIP). */
  maxLength?: number;
  /** Pad id, or "none" for no padding (default: the tokenizer's pad token id). */
  pad?: number | "none";
  /** Cut to maxLength (default true); false throws when the prompt is too long. */
  truncation?: boolean;
}

export interface ModelInput {
  /** `[SOT] + ids[:maxLength-2] + [EOT]` then padding. */
  ids: number[];
  /** Position of the appended EOT. */
  eotIndex: number;
  /** BPE tokens cut by truncation (0 when none). */
  droppedTokens: number;
  /** The part of the input text those tokens came from ("" when none). */
  droppedText: string;
}

export interface TokenWithOffset {
  id: number;
  /** UTF-16 [start, end) in the caller's text (best effort where normalisation rewrote text). */
  start: number;
  end: number;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly maxLength: number;
  normalize(text: string, options?: EncodeOptions): string;
  encode(text: string, options?: EncodeOptions): number[];
  encodeWithOffsets(text: string, options?: EncodeOptions): TokenWithOffset[];
  encodeForModel(text: string, options?: EncodeForModelOptions): ModelInput;
  /** OpenAI `SimpleTokenizer.decode`: bytes -> UTF-8 (replacement on errors), `</w>` -> " ". */
  decode(ids: readonly number[]): string;
  /** Token strings of ids (as in vocab.json). */
  idsToTokens(ids: readonly number[]): string[];
}

export interface CreateTokenizerOptions extends TokenizerConfigFiles {
  /** Bound on cached BPE words (default 20000; 0 disables the cache). */
  cacheLimit?: number;
}

const SOT = "<|startoftext|>";
const EOT = "<|endoftext|>";

export function createTokenizer(
  files: TokenizerFiles,
  options: CreateTokenizerOptions = {},
): Tokenizer {
  const model = parseModelFiles(files);
  const names = parseSpecialTokens(options);
  const bpe = createBpe({
    vocab: model.vocab,
    merges: model.merges,
    endOfWord: model.endOfWord,
    cacheLimit: options.cacheLimit,
  });
  const idOf = (token: string, what: string): number => {
    const id = model.vocab.get(token) ?? model.addedTokens.get(token);
    if (id === undefined) {
      throw new ClipEdgeError(
        "invalid_input",
        `tokenizer: ${what} token ${JSON.stringify(token)} is not in the vocabulary`,
      );
    }
    return id;
  };
  const bosId = idOf(names.bos ?? SOT, "bos");
  const eosId = idOf(names.eos ?? EOT, "eos");
  const padId = idOf(names.pad ?? model.padToken ?? EOT, "pad");
  const maxLength = names.maxLength ?? model.maxLength ?? 77;
  const specials = new Map<string, number>([
    [SOT, idOf(SOT, "special")],
    [EOT, idOf(EOT, "special")],
  ]);
  const specialIds = new Set(specials.values());
  const preTokenize = createPreTokenizer();
  const byteTable = unicodeToBytes(bytesToUnicode());
  const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  const vocabSize = bpe.tokens.length;

  function encodeNormalized(
    text: string,
    sink: (ids: readonly number[], start: number, end: number) => void,
  ) {
    for (const match of preTokenize(text)) {
      const piece = match[0];
      const start = match.index ?? 0;
      const special = specials.get(piece);
      sink(special === undefined ? bpe.encodeWord(piece) : [special], start, start + piece.length);
    }
  }

  function encode(text: string, opts: EncodeOptions = {}): number[] {
    checkText(text);
    const ids: number[] = [];
    for (const match of preTokenize(normalizeText(text, modeOf(opts)))) {
      const piece = match[0];
      const special = specials.get(piece);
      if (special !== undefined) {
        ids.push(special);
        continue;
      }
      const word = bpe.encodeWord(piece);
      for (let i = 0; i < word.length; i++) ids.push(word[i]);
    }
    return ids;
  }

  function encodeWithOffsets(text: string, opts: EncodeOptions = {}): TokenWithOffset[] {
    checkText(text);
    const { text: normalized, sourceStart, sourceEnd } = normalizeWithOffsets(text, modeOf(opts));
    const out: TokenWithOffset[] = [];
    encodeNormalized(normalized, (piece, start, end) => {
      // Split the pre-token over its BPE tokens by UTF-8 bytes; a token that covers part of a
      // character gets the whole character.
      const span = normalized.slice(start, end);
      const ranges = tokenUnitRanges(span, piece.map(tokenByteLength));
      piece.forEach((id, i) => {
        const [first, last] = ranges[i];
        out.push({ id, start: sourceStart[start + first], end: sourceEnd[start + last - 1] });
      });
    });
    return out;
  }

  function tokenByteLength(id: number): number {
    const token = bpe.tokens[id] ?? "";
    if (specialIds.has(id)) return token.length; // "<|startoftext|>" is ASCII
    const body = token.endsWith(model.endOfWord) ? token.slice(0, -model.endOfWord.length) : token;
    return body.length; // one symbol per byte
  }

  function encodeForModel(text: string, opts: EncodeForModelOptions = {}): ModelInput {
    const length = opts.maxLength ?? maxLength;
    if (!Number.isInteger(length) || length < 2) {
      throw new ClipEdgeError(
        "invalid_input",
        `encodeForModel: maxLength must be an integer >= 2, got ${length}`,
      );
    }
    const pad = opts.pad ?? padId;
    if (pad !== "none" && (!Number.isInteger(pad) || pad < 0 || pad >= vocabSize)) {
      throw new ClipEdgeError(
        "invalid_input",
        `encodeForModel: pad must be a token id in [0, ${vocabSize}) or "none", got ${pad}`,
      );
    }
    const ids = encode(text, opts);
    const room = length - 2;
    const dropped = Math.max(0, ids.length - room);
    if (dropped > 0 && opts.truncation === false) {
      throw new ClipEdgeError(
        "too_large",
        `encodeForModel: prompt has ${ids.length} tokens, more than ${room} (maxLength ${length}) and truncation is off`,
        {
          details: { tokens: ids.length, maxTokens: room },
        },
      );
    }
    let droppedText = "";
    if (dropped > 0) {
      const offsets = encodeWithOffsets(text, opts);
      const first = offsets[room];
      droppedText = first ? text.slice(first.start) : "";
    }
    const kept = dropped > 0 ? ids.slice(0, room) : ids;
    const out = [bosId, ...kept, eosId];
    const eotIndex = out.length - 1;
    if (pad !== "none") while (out.length < length) out.push(pad);
    return { ids: out, eotIndex, droppedTokens: dropped, droppedText };
  }

  function idsToTokens(ids: readonly number[]): string[] {
    return ids.map((id) => {
      const token = bpe.tokens[id];
      if (!Number.isInteger(id) || token === undefined || token === "") {
        throw new ClipEdgeError("invalid_input", `decode: id ${id} is not in [0, ${vocabSize})`);
      }
      return token;
    });
  }

  function decode(ids: readonly number[]): string {
    const joined = idsToTokens(ids).join("");
    const bytes = new Uint8Array(joined.length);
    let n = 0;
    for (let i = 0; i < joined.length; i++) {
      const code = joined.charCodeAt(i);
      const byte = code < byteTable.length ? byteTable[code] : -1;
      if (byte < 0) {
        throw new ClipEdgeError(
          "invalid_input",
          `decode: token character U+${code.toString(16)} is not a byte symbol`,
        );
      }
      bytes[n++] = byte;
    }
    return utf8.decode(bytes.subarray(0, n)).replaceAll(model.endOfWord, " ");
  }

  return {
    vocabSize,
    bosId,
    eosId,
    padId,
    maxLength,
    normalize: (text, opts = {}) => {
      checkText(text);
      return normalizeText(text, modeOf(opts));
    },
    encode,
    encodeWithOffsets,
    encodeForModel,
    decode,
    idsToTokens,
  };
}

function modeOf(options: EncodeOptions | undefined): NormalizationMode {
  const mode = options?.mode ?? "openai";
  if (mode !== "openai" && mode !== "hf") {
    throw new ClipEdgeError(
      "invalid_input",
      `tokenizer: mode must be "openai" or "hf", got ${JSON.stringify(mode)}`,
    );
  }
  return mode;
}

function checkText(text: unknown): asserts text is string {
  if (typeof text !== "string") {
    throw new ClipEdgeError(
      "invalid_input",
      `tokenizer: text must be a string, got ${typeof text}`,
    );
  }
}

/**
 * For consecutive tokens of the given UTF-8 byte lengths inside `span`: each token's UTF-16
 * unit range [first, last), widened to whole characters.
 */
function tokenUnitRanges(span: string, byteLengths: readonly number[]): Array<[number, number]> {
  const charStart: number[] = []; // UTF-8 byte -> UTF-16 start of its character
  const charEnd: number[] = []; // UTF-8 byte -> UTF-16 end of its character
  for (let unit = 0; unit < span.length; ) {
    const cp = span.codePointAt(unit)!;
    const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    const next = unit + (cp > 0xffff ? 2 : 1);
    for (let b = 0; b < width; b++) {
      charStart.push(unit);
      charEnd.push(next);
    }
    unit = next;
  }
  const ranges: Array<[number, number]> = [];
  let byte = 0;
  for (const length of byteLengths) {
    const first = charStart[Math.min(byte, charStart.length - 1)] ?? 0;
    const last =
      charEnd[Math.min(byte + Math.max(length, 1) - 1, charEnd.length - 1)] ?? span.length;
    ranges.push([first, Math.max(first + 1, last)]);
    byte += length;
  }
  return ranges;
}
