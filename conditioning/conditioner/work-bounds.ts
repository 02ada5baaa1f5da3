/**
 * Bounds on the work and the answer of one request, checked after tokenisation and
 * before any `session.run`: images per prompt, sequences x positions through the text
 * graphs (the encoder work), and the output values and their serialised bytes. Over a
 * bound is `too_large` (413) with the number and the limit. Per-prompt chunks and
 * composition conditionings are bounded where they are counted (`prompt-items.ts`,
 * `composed-entries.ts`). Sequences are counted before identical ones are merged
 * (`runSequences`), so the encoder work is an upper bound.
 */
import { ClipEdgeError } from "../errors.ts";
import { countMaskedVariants } from "./chunk-weighting.ts";
import type { Preset } from "./presets.ts";
import type { TokenisedRequest } from "./prompt-items.ts";
import type { NormalisedRequest } from "./request.ts";
import type { EncoderBinding } from "./types.ts";

/** The bounds; an absent one is not checked (the worker passes all of them). */
export interface WorkLimits {
  /** Most rows per prompt (`num_images_per_prompt`). */
  maxImagesPerPrompt?: number;
  /** Most token positions through the text graphs: sequences (chunks, Compel masked copies) x 77, summed over encoders. */
  maxEncodeTokens?: number;
  /** Most float values in the returned tensors (and composed conditionings). */
  maxOutputValues?: number;
  /** Most bytes of the serialised answer, estimated as values x `outputBytesPerValue`. */
  maxOutputBytes?: number;
  /** What one value costs in the answer's format (float32 file: 4; JSON: ~12); default 4. */
  outputBytesPerValue?: number;
  /** Names of the limits in messages (the worker's var names), e.g. `{ maxOutputBytes: "MAX_OUTPUT_BYTES" }`. */
  limitNames?: Partial<Record<WorkLimitName, string>>;
}

export type WorkLimitName =
  | "maxImagesPerPrompt"
  | "maxEncodeTokens"
  | "maxOutputValues"
  | "maxOutputBytes"
  | "maxChunks"
  | "maxConditionings";

/** The size of a request's work and answer, as `checkWork` measures it. */
export interface WorkSize {
  imagesPerPrompt: number;
  sequences: number;
  encodeTokens: number;
  /** null: an encoder without a manifest, whose width is not known before running it. */
  outputValues: number | null;
}

const fmt = (n: number) => n.toLocaleString("en-US");

function tooLarge(
  limits: WorkLimits,
  name: WorkLimitName,
  what: string,
  value: number,
  max: number,
  change: string,
): never {
  const label = limits.limitNames?.[name];
  throw new ClipEdgeError(
    "too_large",
    `${what} ${fmt(value)}, more than the limit of ${fmt(max)}${label ? ` (${label})` : ""}; ${change}`,
    { details: { limit: label ?? name, value, max } },
  );
}

/** Hidden width and pooled width per encoder, from the manifests (null when unknown). */
function outputWidths(preset: Preset, encoders: EncoderBinding[]) {
  const hidden = preset.encoders.map((pe, e) =>
    pe.hiddenStates ? (encoders[e].manifest?.architecture.text?.hiddenSize ?? null) : 0,
  );
  let pooled: number | null = 0;
  if (preset.pooled) {
    const arch = encoders[preset.pooled.encoder].manifest?.architecture;
    pooled =
      preset.pooled.output === "text_embeds"
        ? (arch?.projectionDim ?? null)
        : (arch?.text?.hiddenSize ?? null);
  }
  return { hidden, pooled };
}

/** Measures the request's work and answer. */
export function measureWork(
  req: NormalisedRequest,
  t: TokenisedRequest,
  preset: Preset,
  encoders: EncoderBinding[],
): WorkSize {
  const n = req.numImagesPerPrompt;
  let sequences = 0;
  preset.encoders.forEach((pe, e) => {
    const withMasks = pe.hiddenStates !== undefined && req.weighting === "compel";
    sequences += 1; // the empty prompt
    for (const item of t.items) {
      for (const part of item[e].parts) {
        for (const member of part.members) {
          for (const chunk of member.chunks) {
            sequences += 1 + (withMasks ? countMaskedVariants(chunk) : 0);
          }
        }
      }
    }
  });
  const widths = outputWidths(preset, encoders);
  const hiddenWidth = widths.hidden.some((w) => w === null)
    ? null
    : (widths.hidden as number[]).reduce((a, b) => a + b, 0);
  // Rows returned: positives, negatives (encoded or zeros), composed conditionings.
  const negativeRows = t.encodeNegatives || t.zeroNegatives ? req.prompts.length : 0;
  const composedRows = t.composed
    ? t.composed.positive.length + (t.encodeNegatives ? t.composed.negative.length : 0)
    : 0;
  const rows = (req.prompts.length + negativeRows + composedRows) * n;
  const perRow =
    hiddenWidth === null || widths.pooled === null
      ? null
      : t.chunkCount * preset.maxLength * hiddenWidth + widths.pooled;
  return {
    imagesPerPrompt: n,
    sequences,
    encodeTokens: sequences * preset.maxLength,
    outputValues: perRow === null ? null : rows * perRow,
  };
}

/** Throws `too_large` when the request is over a bound; returns its size. */
export function checkWork(
  req: NormalisedRequest,
  t: TokenisedRequest,
  preset: Preset,
  encoders: EncoderBinding[],
  limits: WorkLimits,
): WorkSize {
  const size = measureWork(req, t, preset, encoders);
  const prompts = req.prompts.length;
  const { maxImagesPerPrompt, maxEncodeTokens, maxOutputValues, maxOutputBytes } = limits;
  if (maxImagesPerPrompt !== undefined && size.imagesPerPrompt > maxImagesPerPrompt) {
    tooLarge(
      limits,
      "maxImagesPerPrompt",
      "num_images_per_prompt is",
      size.imagesPerPrompt,
      maxImagesPerPrompt,
      "repeat the rows on the client instead (they are identical)",
    );
  }
  if (maxEncodeTokens !== undefined && size.encodeTokens > maxEncodeTokens) {
    tooLarge(
      limits,
      "maxEncodeTokens",
      `the request needs ${fmt(size.sequences)} sequences of ${preset.maxLength} tokens through the text encoder(s) (${prompts} prompt(s) x ${t.chunkCount} chunk(s), negatives${req.weighting === "compel" ? ", Compel masked copies" : ""}):`,
      size.encodeTokens,
      maxEncodeTokens,
      "send fewer prompts or shorter ones (fewer chunks / BREAKs), or split the request",
    );
  }
  if (size.outputValues === null) return size;
  const shape = `${prompts} prompt(s) x ${size.imagesPerPrompt} image(s) x ${t.chunkCount * preset.maxLength} positions, with negatives`;
  if (maxOutputValues !== undefined && size.outputValues > maxOutputValues) {
    tooLarge(
      limits,
      "maxOutputValues",
      `the answer would hold ${shape}: output values`,
      size.outputValues,
      maxOutputValues,
      "ask for fewer prompts, images per prompt or chunks, or split the request",
    );
  }
  const perValue = limits.outputBytesPerValue ?? 4;
  const bytes = Math.ceil(size.outputValues * perValue);
  if (maxOutputBytes !== undefined && bytes > maxOutputBytes) {
    tooLarge(
      limits,
      "maxOutputBytes",
      `the answer would hold ${shape} (${fmt(size.outputValues)} values at ~${perValue} bytes each in this format): bytes`,
      bytes,
      maxOutputBytes,
      "ask for fewer prompts, images per prompt or chunks, a binary format (safetensors, npy, raw) or float16",
    );
  }
  return size;
}
