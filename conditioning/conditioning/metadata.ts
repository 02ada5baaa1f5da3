import type { ConditioningMetadata } from "./types.ts";

/**
 * Conditioning metadata as safetensors `__metadata__` (every value a string; structured
 * values JSON-encoded). Keys: preset, models, model_ids, model_hashes, clip_skip,
 * clip_skip_negative, weighting, long_prompt, num_images_per_prompt, dtype,
 * sequence_length, token_counts, truncated, dropped_tokens, prompts.
 */
export function conditioningMetadataStrings(meta: ConditioningMetadata): Record<string, string> {
  return {
    producer: "clip-edge",
    preset: meta.preset,
    models: JSON.stringify(meta.models),
    model_ids: meta.models.map((m) => m.id).join(","),
    model_hashes: meta.models.map((m) => m.hash ?? "").join(","),
    clip_skip: String(meta.clipSkip),
    clip_skip_negative: String(meta.clipSkipNegative),
    weighting: meta.weighting,
    long_prompt: meta.longPrompt,
    num_images_per_prompt: String(meta.numImagesPerPrompt),
    dtype: meta.dtype,
    sequence_length: String(meta.sequenceLength),
    token_counts: JSON.stringify(meta.prompts.map((p) => p.tokenCount)),
    truncated: String(meta.prompts.some((p) => p.truncated)),
    dropped_tokens: JSON.stringify(meta.prompts.map((p) => p.droppedTokens)),
    prompts: JSON.stringify({ prompts: meta.prompts, negative_prompts: meta.negativePrompts }),
  };
}
