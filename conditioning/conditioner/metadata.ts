import type { ConditioningMetadata, ConditioningResult, FloatTensor } from "./types.ts";

/**
 * Conditioning metadata as safetensors `__metadata__` (every value a string; structured
 * values JSON-encoded). Keys: preset, models, model_ids, model_hashes, clip_skip,
 * clip_skip_negative, weighting, long_prompt, num_images_per_prompt, dtype,
 * sequence_length, token_counts, truncated, dropped_tokens, prompts; with composition "a1111"
 * also conditionings and negative_conditionings (JSON lists of `{prompt_index, part, text,
 * weight, steps}`, entry i stored as tensors `<name>.cond<i>`, see `withConditioningTensors`).
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
    ...(meta.conditionings && { conditionings: JSON.stringify(meta.conditionings) }),
    ...(meta.negativeConditionings && {
      negative_conditionings: JSON.stringify(meta.negativeConditionings),
    }),
  };
}

/**
 * The result's tensors plus its composed conditionings as flat named tensors, for
 * `serializeTensors`: entry i of `conditionings` as `prompt_embeds.cond<i>` /
 * `pooled_prompt_embeds.cond<i>`, of `negative_conditionings` as
 * `negative_prompt_embeds.cond<i>` / `negative_pooled_prompt_embeds.cond<i>` (the step ranges
 * and weights are in the metadata's `conditionings` / `negative_conditionings`).
 */
export function withConditioningTensors(result: ConditioningResult): Record<string, FloatTensor> {
  const out: Record<string, FloatTensor> = { ...result.tensors };
  const add = (prefix: string, list: ConditioningResult["conditionings"]) => {
    list?.forEach((c, i) => {
      if (c.prompt_embeds) out[`${prefix}prompt_embeds.cond${i}`] = c.prompt_embeds;
      if (c.pooled_prompt_embeds) {
        out[`${prefix}pooled_prompt_embeds.cond${i}`] = c.pooled_prompt_embeds;
      }
    });
  };
  add("", result.conditionings);
  add("negative_", result.negative_conditionings);
  return out;
}
