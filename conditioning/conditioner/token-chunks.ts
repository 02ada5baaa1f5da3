import { ClipEdgeError } from "../errors.ts";
import type { LongPromptMode } from "./request-schema.ts";
import type { TokenizerLike, WeightedFragment } from "./types.ts";

export const SOT_ID = 49406;
export const EOT_ID = 49407;
/** Tokens per chunk between SOT and EOT. */
export const CHUNK_TOKENS = 75;

/** One 77-token sequence: [SOT] + tokens + [EOT] + pad. */
export interface TokenChunk {
  ids: number[];
  /** Per-position weight; 1 for SOT, EOT and padding. */
  weights: number[];
  /** Per-position index of the fragment the token came from; -1 for SOT/EOT/pad. */
  fragments: number[];
  /** Number of prompt tokens in the chunk (without SOT/EOT/pad). */
  tokenCount: number;
}

export interface TokenizedPrompt {
  chunks: TokenChunk[];
  tokenCount: number;
  truncated: boolean;
  droppedTokens: number;
  droppedText: string;
}

export interface ChunkOptions {
  mode: LongPromptMode;
  padId: number;
  /** Total sequence length, 77 for CLIP. */
  maxLength?: number;
  /**
   * A1111's `comma_padding_backtrack` (its default is 20; ours 0 = off): in chunk mode, when
   * a chunk is full and its last comma is at most this many tokens back, the tokens after
   * the comma move to the next chunk.
   */
  commaBacktrack?: number;
  /** Id of `,</w>` (267 in the CLIP vocabulary). */
  commaId?: number;
}

export const COMMA_ID = 267;

interface EncodedText {
  ids: number[];
  offsets?: [number, number][];
}

export function isBreak(fragment: WeightedFragment): boolean {
  return fragment.text === "BREAK" && fragment.weight === -1;
}

/** Normalises the accepted tokenizer return shapes to ids (+ offsets when given). */
export function tokenizeText(tokenizer: TokenizerLike, text: string): EncodedText {
  const out = tokenizer.encode(text) as unknown;
  if (out && typeof out === "object" && "ids" in (out as object)) {
    const r = out as { ids: ArrayLike<number>; offsets?: unknown };
    return { ids: Array.from(r.ids, Number), offsets: normaliseOffsets(r.offsets) };
  }
  if (out && typeof (out as ArrayLike<number>).length === "number") {
    return { ids: Array.from(out as ArrayLike<number>, Number) };
  }
  throw new ClipEdgeError(
    "internal",
    `tokenizer.encode returned no ids for ${JSON.stringify(text)}`,
  );
}

function normaliseOffsets(raw: unknown): [number, number][] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.map((o) =>
    Array.isArray(o) ? [Number(o[0]), Number(o[1])] : [Number(o.start), Number(o.end)],
  );
}

/** Emptyprompt chunk: [SOT, EOT, pad...]. */
export function emptyChunk(padId: number, maxLength = 77): TokenChunk {
  return finishChunk([], [], [], padId, maxLength);
}

export function finishChunk(
  ids: number[],
  weights: number[],
  fragments: number[],
  padId: number,
  maxLength: number,
): TokenChunk {
  const pad = maxLength - 2 - ids.length;
  return {
    ids: [SOT_ID, ...ids, EOT_ID, ...new Array(pad).fill(padId)],
    weights: [1, ...weights, 1, ...new Array(pad).fill(1)],
    fragments: [-1, ...fragments, -1, ...new Array(pad).fill(-1)],
    tokenCount: ids.length,
  };
}

/**
 * Weighted fragments -> 77-token chunks with per-token weights. Each fragment is
 * tokenised on its own and the ids concatenated (as A1111 and Compel do).
 * - truncate: one chunk with the first 75 tokens; BREAK markers are ignored.
 * - chunk: a new chunk every 75 tokens and at every BREAK (A1111's `next_chunk`;
 *   its comma back-tracking is not done). A final empty chunk is added only when
 *   no chunk exists yet, so "a BREAK" gives one chunk and "" gives one empty chunk.
 */
export function buildTokenChunks(
  fragments: readonly WeightedFragment[],
  tokenizer: TokenizerLike,
  options: ChunkOptions,
): TokenizedPrompt {
  const maxLength = options.maxLength ?? 77;
  const perChunk = maxLength - 2;
  const chunks: TokenChunk[] = [];
  let ids: number[] = [];
  let weights: number[] = [];
  let owners: number[] = [];
  let lastComma = -1;
  const next = () => {
    chunks.push(finishChunk(ids, weights, owners, options.padId, maxLength));
    ids = [];
    weights = [];
    owners = [];
    lastComma = -1;
  };
  const backtrack = options.mode === "chunk" ? (options.commaBacktrack ?? 0) : 0;
  const commaId = options.commaId ?? COMMA_ID;
  let tokenCount = 0;
  let droppedTokens = 0;
  const dropped: string[] = [];
  fragments.forEach((fragment, index) => {
    if (isBreak(fragment)) {
      if (options.mode === "chunk") next();
      return;
    }
    const encoded = tokenizeText(tokenizer, fragment.text);
    tokenCount += encoded.ids.length;
    for (let t = 0; t < encoded.ids.length; t++) {
      if (encoded.ids[t] === commaId) {
        lastComma = ids.length;
      } else if (
        backtrack > 0 &&
        ids.length === perChunk &&
        lastComma !== -1 &&
        ids.length - lastComma <= backtrack
      ) {
        // A1111: move the words after the last comma into the next chunk.
        const at = lastComma + 1;
        const moved = [ids.slice(at), weights.slice(at), owners.slice(at)];
        ids = ids.slice(0, at);
        weights = weights.slice(0, at);
        owners = owners.slice(0, at);
        next();
        [ids, weights, owners] = moved;
      }
      if (ids.length === perChunk) {
        if (options.mode === "truncate") {
          droppedTokens += encoded.ids.length - t;
          dropped.push(droppedTail(tokenizer, fragment.text, encoded, t));
          return;
        }
        next();
      }
      ids.push(encoded.ids[t]);
      weights.push(fragment.weight);
      owners.push(index);
    }
  });
  if (ids.length > 0 || chunks.length === 0) next();
  return {
    chunks,
    tokenCount,
    truncated: droppedTokens > 0,
    droppedTokens,
    droppedText: dropped.join("").trim(),
  };
}

/**
 * Text of `fragmentText` from token `from` on. Uses the tokenizer's offsets when it
 * gives them (`{ids, offsets}` or `encodeWithOffsets`); otherwise cuts at the first whitespace-separated word whose tokens
 * reach past the kept tokens (CLIP BPE never merges across whitespace).
 */
function droppedTail(
  tokenizer: TokenizerLike,
  fragmentText: string,
  encoded: EncodedText,
  from: number,
): string {
  if (from === 0) return fragmentText;
  if (encoded.offsets && encoded.offsets.length === encoded.ids.length) {
    return ` ${fragmentText.slice(encoded.offsets[from][0])}`;
  }
  if (tokenizer.encodeWithOffsets) {
    const offsets = tokenizer.encodeWithOffsets(fragmentText);
    if (offsets.length === encoded.ids.length) return ` ${fragmentText.slice(offsets[from].start)}`;
  }
  const words = [...fragmentText.matchAll(/\S+/gu)];
  let count = 0;
  for (const word of words) {
    count += tokenizeText(tokenizer, word[0]).ids.length;
    if (count > from) return ` ${fragmentText.slice(word.index)}`;
  }
  return "";
}
