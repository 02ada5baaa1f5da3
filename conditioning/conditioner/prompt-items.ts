/**
 * The text stages of a conditioning request: parse -> flatten -> chunk. Every prompt,
 * negative prompt and composed text becomes, per encoder, its parts (Compel `.and()`)
 * of blend members, each a list of 77-token chunks; all are padded to one chunk count.
 */
import { ClipEdgeError } from "../errors.ts";
import { buildComfyChunks } from "./comfy-chunks.ts";
import { type ComposedEntries, composeEntries } from "./composed-entries.ts";
import { type PromptParsers, type PromptPart, promptStructure } from "./fragments.ts";
import type { Preset } from "./presets.ts";
import type { NormalisedRequest } from "./request.ts";
import {
  buildTokenChunks,
  type ChunkOptions,
  emptyChunk,
  type TokenizedPrompt,
} from "./token-chunks.ts";
import type { EncoderBinding } from "./types.ts";
import type { WorkLimits } from "./work-bounds.ts";

/** One conjunction part: its blend members, tokenised for one encoder. */
export interface ItemPart {
  weight: number;
  memberWeights: number[];
  normalize: boolean;
  /** Per member; chunks padded to `chunkCount` with empty-prompt chunks. */
  members: TokenizedPrompt[];
  chunkCount: number;
}

/** A prompt as one encoder sees it (sdxl's encoder 2 may get prompt_2). */
export interface EncoderItem {
  text: string;
  parts: ItemPart[];
  /** Chunks of the prompt itself (sum over parts), before padding to the request's count. */
  ownChunks: number;
  /** Empty-prompt chunks appended so every item has the request's chunk count. */
  trailing: number;
}

/** One prompt (or negative prompt): per encoder. */
export type Item = EncoderItem[];

export interface TokenisedRequest {
  positives: Item[];
  negatives: Item[];
  /** composition "a1111": the entries; their texts are the items after the negatives. */
  composed: ComposedEntries | null;
  /** positives, negatives, then the composed texts. */
  items: Item[];
  /** Chunks of every item (the longest item's). */
  chunkCount: number;
  /** Negative prompts are encoded (guidance on, and given or the preset encodes ""). */
  encodeNegatives: boolean;
  /** Negative tensors are zeros (sdxl force_zeros_for_empty_prompt). */
  zeroNegatives: boolean;
}

export interface TokeniseOptions {
  preset: Preset;
  encoders: EncoderBinding[];
  parsers: PromptParsers;
  /** Most 77-token chunks per prompt (default 32). */
  maxChunks?: number;
  /** composition "a1111": most conditionings (default 256). */
  maxConditionings?: number;
  /** For the names of the limits in messages. */
  limits?: WorkLimits;
}

/** chunk: one part's members as 77-token chunks, padded to the part's longest member. */
function chunkPart(
  part: PromptPart,
  e: number,
  req: NormalisedRequest,
  options: TokeniseOptions,
): ItemPart {
  const { padId } = options.preset.encoders[e];
  const maxLength = options.preset.maxLength;
  const chunkOptions: ChunkOptions = {
    mode: req.longPrompt,
    padId,
    maxLength,
    commaBacktrack: req.commaBacktrack,
  };
  // ComfyUI syntax chunks the way ComfyUI does (whole words, per-word tokenisation).
  const build =
    req.syntax === "comfy" && req.longPrompt === "chunk" ? buildComfyChunks : buildTokenChunks;
  const tokenizer = options.encoders[e].tokenizer;
  const members = part.members.map((fragments) => build(fragments, tokenizer, chunkOptions));
  const chunkCount = Math.max(...members.map((t) => t.chunks.length));
  for (const t of members) {
    while (t.chunks.length < chunkCount) t.chunks.push(emptyChunk(padId, maxLength));
  }
  return { ...part, members, chunkCount };
}

/** parse + flatten (`promptStructure`), then chunk: one text for encoder `e`. */
function tokeniseText(
  text: string,
  e: number,
  req: NormalisedRequest,
  options: TokeniseOptions,
): EncoderItem {
  const structure = promptStructure(text, req.syntax, options.parsers, req.longPrompt);
  const parts = structure.parts.map((part) => chunkPart(part, e, req, options));
  const ownChunks = parts.reduce((a, p) => a + p.chunkCount, 0);
  return { text, parts, ownChunks, trailing: 0 };
}

/** Pads every item to the longest one's chunk count (`trailing`); over `maxChunks` is too_large. */
function padToCommonLength(items: Item[], options: TokeniseOptions): number {
  const chunkCount = Math.max(...items.flat().map((it) => it.ownChunks));
  const maxChunks = options.maxChunks ?? 32;
  if (chunkCount > maxChunks) {
    const worst = items.flat().find((it) => it.ownChunks === chunkCount)!;
    const name = options.limits?.limitNames?.maxChunks;
    throw new ClipEdgeError(
      "too_large",
      `prompt ${JSON.stringify(worst.text.slice(0, 40))} needs ${chunkCount} chunks of 75 tokens (${chunkCount * options.preset.maxLength} positions), more than the limit of ${maxChunks}${name ? ` (${name})` : ""}; use fewer BREAKs or a shorter prompt`,
      { details: { chunks: chunkCount, maxChunks } },
    );
  }
  for (const it of items.flat()) it.trailing = chunkCount - it.ownChunks;
  return chunkCount;
}

/** The request's texts (prompts, negatives, composed texts) tokenised for every encoder. */
export function tokeniseRequest(
  req: NormalisedRequest,
  options: TokeniseOptions,
): TokenisedRequest {
  const { preset, encoders } = options;
  if (encoders.length < 2 && (req.prompts2 || req.negatives2)) {
    throw new ClipEdgeError(
      "invalid_request",
      `prompt_2 / negative_prompt_2 need a two-encoder preset (sdxl); ${preset.name} has one`,
    );
  }
  // Encoder 2 (sdxl text_encoder_2) reads prompt_2 when given; diffusers' `prompt_2 or prompt`
  // also falls back for "" (same for negative_prompt_2).
  const tokenise = (text: string, text2: string | null): Item =>
    encoders.map((_, e) => tokeniseText(e === 1 && text2 !== null ? text2 : text, e, req, options));
  const positives = req.prompts.map((p, i) => tokenise(p, req.prompts2?.[i] || null));
  // Negative texts: null = zeros (sdxl force_zeros) or absent (flux / no guidance).
  const zeroNegatives = req.guidance && !req.negativeGiven && preset.forceZerosForEmptyNegative;
  const encodeNegatives =
    req.guidance && !zeroNegatives && (req.negativeGiven || !preset.negativeOnlyWhenGiven);
  const negatives = encodeNegatives
    ? req.negatives.map((n, i) => tokenise(n ?? "", req.negatives2?.[i] || null))
    : [];
  // composition "a1111": every AND part's scheduled texts, each encoded once like a prompt.
  const composed = req.composition
    ? composeEntries(req, encodeNegatives, options.maxConditionings)
    : null;
  const composedItems = composed ? composed.texts.map((t) => tokenise(t, null)) : [];
  const items = [...positives, ...negatives, ...composedItems];
  const chunkCount = padToCommonLength(items, options);
  return { positives, negatives, composed, items, chunkCount, encodeNegatives, zeroNegatives };
}
