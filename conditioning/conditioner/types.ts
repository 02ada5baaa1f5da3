import type { BundleManifest } from "../bundle/manifest.ts";
import type { InferenceSessionLike } from "../encoder/session.ts";
import type { FloatTensor } from "../formats/tensor-bytes.ts";
import type { LongPromptMode, OutputDtype, WeightingMode } from "./request-schema.ts";

export type { FloatTensor } from "../formats/tensor-bytes.ts";

/**
 * The tokenizer view the core needs: BPE ids of `text` WITHOUT SOT/EOT and without
 * truncation. Accepts a plain array, a typed array or an object with `ids`.
 */
export interface TokenizerLike {
  encode(text: string): ArrayLike<number> | { ids: ArrayLike<number> };
  /** Optional: per-token source offsets, used to report the exact dropped text. */
  encodeWithOffsets?(text: string): { id: number; start: number; end: number }[];
}

/** One text encoder, as the runtime hands it to the core. */
export interface EncoderBinding {
  /** Model id reported in metadata (bundle name or hub id). */
  id: string;
  /** Hash reported in metadata (e.g. the text graph's SHA-256). */
  hash?: string;
  session: InferenceSessionLike;
  tokenizer: TokenizerLike;
  /** Used for exportedHiddenStates (clip-skip bounds) and dims; optional. */
  manifest?: BundleManifest;
}

/** A weighted piece of prompt text; A1111's BREAK is `{ text: "BREAK", weight: -1 }`. */
export interface WeightedFragment {
  text: string;
  weight: number;
}

export interface PromptReport {
  text: string;
  /** BPE tokens (without SOT/EOT) after parsing, before truncation. */
  tokenCount: number;
  chunks: number;
  truncated: boolean;
  droppedTokens: number;
  /** Concatenated text of the fragments (or parts of them) that were dropped. */
  droppedText: string;
}

export interface ConditioningMetadata {
  preset: string;
  models: { id: string; hash?: string }[];
  clipSkip: number;
  clipSkipNegative: boolean;
  weighting: WeightingMode;
  longPrompt: LongPromptMode;
  numImagesPerPrompt: number;
  dtype: OutputDtype;
  sequenceLength: number;
  prompts: PromptReport[];
  negativePrompts: (PromptReport | null)[];
  /** composition "a1111": the conditionings, in `result.conditionings` order (no tensors). */
  conditionings?: ConditioningEntryReport[];
  negativeConditionings?: ConditioningEntryReport[];
}

/** A composed conditioning without its tensors (metadata). */
export interface ConditioningEntryReport {
  /** Index of the prompt in the request's batch. */
  prompt_index: number;
  /** Index of the `AND` part within the prompt (always 0 for negative prompts). */
  part: number;
  /** The scheduled text that was encoded. */
  text: string;
  /** Composition weight (A1111 `AND ... :w`); 1 without one. */
  weight: number;
  /** 1-based inclusive sampling-step range. */
  steps: { start: number; end: number };
}

/** One composed conditioning with its tensors (rows repeated `num_images_per_prompt` times). */
export interface ComposedConditioning extends ConditioningEntryReport {
  /** [n, 77 * chunks, W] (absent for pooled-only presets such as flux). */
  prompt_embeds?: FloatTensor;
  /** [n, D] (sdxl, flux). */
  pooled_prompt_embeds?: FloatTensor;
}

export interface ConditioningResult {
  tensors: Record<string, FloatTensor>;
  metadata: ConditioningMetadata;
  /** composition "a1111" only: per prompt, per AND part, per schedule step range. */
  conditionings?: ComposedConditioning[];
  /** composition "a1111" with encoded negative prompts: per negative prompt, per step range. */
  negative_conditionings?: ComposedConditioning[];
}
