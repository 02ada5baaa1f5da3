import { resolveClipSkip } from "./clip-skip.ts";
import {
  type ConditioningRequest,
  defaultSyntax,
  type LongPromptMode,
  type OutputDtype,
  type PromptSyntax,
  REQUEST_DEFAULTS,
  type WeightingMode,
} from "./request-schema.ts";

/** A parsed request in the shape the conditioner works with: one entry per prompt, defaults in. */
export interface NormalisedRequest {
  prompts: string[];
  /** One entry per prompt; null = not given. */
  negatives: (string | null)[];
  negativeGiven: boolean;
  /** Per prompt, or null when prompt_2 / negative_prompt_2 is not given. */
  prompts2: string[] | null;
  negatives2: string[] | null;
  clipSkip: number;
  clipSkipNegative: boolean;
  weighting: WeightingMode;
  syntax: PromptSyntax | null;
  longPrompt: LongPromptMode;
  commaBacktrack: number;
  numImagesPerPrompt: number;
  guidance: boolean;
  dtype: OutputDtype;
  /** "a1111": also return AND / schedule conditionings; null: off. */
  composition: "a1111" | null;
  /** Sampling steps for schedules (composition only). */
  steps: number;
}

/** One entry per prompt from a string (for all) or an array (one each; the schema checked its length). */
function perPrompt(value: string | string[] | undefined, count: number): string[] | null {
  if (value === undefined) return null;
  return typeof value === "string" ? new Array(count).fill(value) : value;
}

/** Spreads a parsed request over its prompts and fills in the defaults; validates nothing. */
export function normaliseRequest(request: ConditioningRequest): NormalisedRequest {
  const prompts = request.prompts ?? [request.prompt ?? ""];
  const weighting = request.weighting ?? REQUEST_DEFAULTS.weighting;
  return {
    prompts,
    negatives: perPrompt(request.negative_prompt, prompts.length) ?? prompts.map(() => null),
    // diffusers: force_zeros applies when negative_prompt is None, whatever negative_prompt_2 is.
    negativeGiven: request.negative_prompt !== undefined,
    prompts2: perPrompt(request.prompt_2, prompts.length),
    negatives2: perPrompt(request.negative_prompt_2, prompts.length),
    clipSkip: resolveClipSkip(request.clip_skip, request.a1111_clip_skip),
    clipSkipNegative: request.clip_skip_negative ?? REQUEST_DEFAULTS.clip_skip_negative,
    weighting,
    syntax: request.syntax ?? defaultSyntax(weighting),
    longPrompt: request.long_prompt ?? REQUEST_DEFAULTS.long_prompt,
    commaBacktrack: request.comma_padding_backtrack ?? REQUEST_DEFAULTS.comma_padding_backtrack,
    numImagesPerPrompt: request.num_images_per_prompt ?? REQUEST_DEFAULTS.num_images_per_prompt,
    guidance: request.do_classifier_free_guidance ?? REQUEST_DEFAULTS.do_classifier_free_guidance,
    dtype: request.dtype ?? REQUEST_DEFAULTS.dtype,
    composition: request.composition ?? null,
    steps: request.steps ?? REQUEST_DEFAULTS.steps,
  };
}
