/**
 * The assemble stage: encoded items -> diffusers-named tensors (features of the encoders
 * side by side, rows repeated `num_images_per_prompt` times), composed conditionings and
 * the metadata.
 */
import type { ComposedEntry } from "./composed-entries.ts";
import type { EncodedItems } from "./encode-items.ts";
import type { Preset } from "./presets.ts";
import type { Item, TokenisedRequest } from "./prompt-items.ts";
import type { NormalisedRequest } from "./request.ts";
import { concatFeatures, stack, zerosLike } from "./tensor-ops.ts";
import type {
  ComposedConditioning,
  ConditioningEntryReport,
  ConditioningResult,
  EncoderBinding,
  FloatTensor,
  PromptReport,
} from "./types.ts";

/** Rows of one tensor family: per item, one row ([seq, W] or [D]). */
interface Family {
  rows: Float32Array[];
  shape: number[];
}

/** `prompt_embeds` / `pooled_prompt_embeds` and their negatives from one family of rows. */
function addFamily(
  tensors: Record<string, FloatTensor>,
  names: [string, string],
  family: Family,
  t: TokenisedRequest,
  n: number,
): void {
  const positives = t.positives.length;
  tensors[names[0]] = stack(family.rows.slice(0, positives), n, family.shape);
  if (t.encodeNegatives) {
    const end = positives + t.negatives.length;
    tensors[names[1]] = stack(family.rows.slice(positives, end), n, family.shape);
  } else if (t.zeroNegatives) {
    tensors[names[1]] = zerosLike(tensors[names[0]]);
  }
}

/** The composed conditionings with their tensors (entries with the same text share them). */
function composedTensors(
  t: TokenisedRequest,
  joined: Family | null,
  pooled: Family | null,
  n: number,
): { positive: ComposedConditioning[]; negative: ComposedConditioning[] } | null {
  if (!t.composed) return null;
  const base = t.positives.length + t.negatives.length;
  const perText = t.composed.texts.map((_, i) => {
    const out: Pick<ComposedConditioning, "prompt_embeds" | "pooled_prompt_embeds"> = {};
    if (joined) out.prompt_embeds = stack([joined.rows[base + i]], n, joined.shape);
    if (pooled) out.pooled_prompt_embeds = stack([pooled.rows[base + i]], n, pooled.shape);
    return out;
  });
  const withTensors = (entries: ComposedEntry[]) =>
    entries.map(({ textIndex, ...entry }) => ({ ...entry, ...perText[textIndex] }));
  return { positive: withTensors(t.composed.positive), negative: withTensors(t.composed.negative) };
}

const reportOf = (entries: ComposedEntry[]): ConditioningEntryReport[] =>
  entries.map(({ textIndex: _, ...entry }) => entry);

/** Token counts and truncation of a prompt, from the first encoder's tokenisation. */
function report(items: Item): PromptReport {
  const item = items[0];
  const units = item.parts.flatMap((p) => p.members);
  return {
    text: item.text,
    tokenCount: units.reduce((a, t) => a + t.tokenCount, 0),
    chunks: item.ownChunks,
    truncated: units.some((t) => t.truncated),
    droppedTokens: units.reduce((a, t) => a + t.droppedTokens, 0),
    droppedText: units
      .map((t) => t.droppedText)
      .filter((s) => s.length > 0)
      .join(" "),
  };
}

export function assembleResult(
  preset: Preset,
  encoders: EncoderBinding[],
  req: NormalisedRequest,
  t: TokenisedRequest,
  encoded: EncodedItems,
): ConditioningResult {
  const n = req.numImagesPerPrompt;
  const seqLength = t.chunkCount * preset.maxLength;
  const tensors: Record<string, FloatTensor> = {};
  const { hidden, widths } = encoded;
  const joined: Family | null =
    hidden.length > 0
      ? {
          rows: t.items.map((_, i) =>
            concatFeatures(
              hidden.map((h) => h[i]),
              widths,
            ),
          ),
          shape: [seqLength, widths.reduce((a, b) => a + b, 0)],
        }
      : null;
  const pooled: Family | null = encoded.pooled
    ? { rows: encoded.pooled, shape: [encoded.pooled[0].length] }
    : null;
  if (joined) addFamily(tensors, ["prompt_embeds", "negative_prompt_embeds"], joined, t, n);
  if (pooled) {
    addFamily(tensors, ["pooled_prompt_embeds", "negative_pooled_prompt_embeds"], pooled, t, n);
  }
  const conditionings = composedTensors(t, joined, pooled, n);
  const { composed, encodeNegatives } = t;
  return {
    tensors,
    ...(conditionings && {
      conditionings: conditionings.positive,
      ...(encodeNegatives && { negative_conditionings: conditionings.negative }),
    }),
    metadata: {
      preset: preset.name,
      models: encoders.map((enc) => ({ id: enc.id, hash: enc.hash })),
      clipSkip: req.clipSkip,
      clipSkipNegative: req.clipSkipNegative,
      weighting: req.weighting,
      longPrompt: req.longPrompt,
      numImagesPerPrompt: n,
      dtype: req.dtype,
      sequenceLength: seqLength,
      prompts: t.positives.map(report),
      negativePrompts: req.prompts.map((_, i) => (encodeNegatives ? report(t.negatives[i]) : null)),
      ...(composed && {
        conditionings: reportOf(composed.positive),
        ...(encodeNegatives && { negativeConditionings: reportOf(composed.negative) }),
      }),
    },
  };
}
