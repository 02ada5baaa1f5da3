import type { TensorFactory } from "../encoder/session.ts";
import { ClipEdgeError } from "../errors.ts";
import { hiddenStateOutput } from "./clip-skip.ts";
import { defaultPromptParsers } from "./default-parsers.ts";
import { exportedHiddenStates, runSequences, type SequenceInput } from "./encoder-runner.ts";
import { type PromptParsers, promptFragments } from "./fragments.ts";
import { getPreset, type Preset } from "./presets.ts";
import { type NormalisedRequest, normaliseRequest } from "./request.ts";
import {
  buildTokenChunks,
  emptyChunk,
  type TokenChunk,
  type TokenizedPrompt,
} from "./token-chunks.ts";
import type {
  ConditioningRequest,
  ConditioningResult,
  EncoderBinding,
  FloatTensor,
  PromptReport,
} from "./types.ts";
import {
  allOnes,
  compelBlend,
  compelLerpWeight,
  weightA1111,
  weightLerpFromEmpty,
  weightMultiply,
} from "./weighting.ts";

export interface ConditionerOptions {
  preset: string | Preset;
  /** One per preset encoder, in the preset's order (sdxl: CLIP-L, then bigG). */
  encoders: EncoderBinding[];
  tensorFactory: TensorFactory;
  /** Prompt parsers for weighted syntaxes (default: conditioning/prompt's a1111, comfy). */
  parsers?: PromptParsers;
  /** Largest batch per session.run (default 16). */
  maxBatch?: number;
}

export interface Conditioner {
  readonly preset: Preset;
  encode(request: ConditioningRequest): Promise<ConditioningResult>;
}

interface Item {
  text: string;
  tokenized: TokenizedPrompt[]; // per encoder
  /** Chunks of the prompt itself, before padding to the request's chunk count. */
  ownChunks: number;
}

export function createConditioner(options: ConditionerOptions): Conditioner {
  const preset = typeof options.preset === "string" ? getPreset(options.preset) : options.preset;
  if (options.encoders.length !== preset.encoders.length) {
    throw new ClipEdgeError(
      "invalid_input",
      `preset ${preset.name} needs ${preset.encoders.length} encoder(s) (${preset.encoders.map((e) => e.role).join(", ")}), got ${options.encoders.length}`,
    );
  }
  const parsers = { ...defaultPromptParsers(), ...options.parsers };
  return {
    preset,
    encode: async (request) => encode(preset, options, parsers, normaliseRequest(request)),
  };
}

async function encode(
  preset: Preset,
  options: ConditionerOptions,
  parsers: PromptParsers,
  req: NormalisedRequest,
): Promise<ConditioningResult> {
  const { encoders } = options;
  const tokenize = (text: string): Item => {
    const fragments = promptFragments(text, req.syntax, parsers, req.longPrompt);
    const tokenized = encoders.map((enc, e) =>
      buildTokenChunks(fragments, enc.tokenizer, {
        mode: req.longPrompt,
        padId: preset.encoders[e].padId,
        maxLength: preset.maxLength,
      }),
    );
    return { text, tokenized, ownChunks: tokenized[0].chunks.length };
  };
  const positives = req.prompts.map(tokenize);
  // Negative texts: null = zeros (sdxl force_zeros) or absent (flux / no guidance).
  const zeroNegatives = req.guidance && !req.negativeGiven && preset.forceZerosForEmptyNegative;
  const encodeNegatives =
    req.guidance && !zeroNegatives && (req.negativeGiven || !preset.negativeOnlyWhenGiven);
  const negatives = encodeNegatives ? req.negatives.map((n) => tokenize(n ?? "")) : [];
  const items = [...positives, ...negatives];
  const chunkCount = Math.max(...items.flatMap((it) => it.tokenized.map((t) => t.chunks.length)));
  for (const it of items) {
    it.tokenized.forEach((t, e) => {
      while (t.chunks.length < chunkCount) {
        t.chunks.push(emptyChunk(preset.encoders[e].padId, preset.maxLength));
      }
    });
  }

  const perEncoderHidden: Float32Array[][] = []; // [encoder][item] -> [77*n, W]
  const widths: number[] = [];
  let pooled: Float32Array[] | null = null;
  for (let e = 0; e < encoders.length; e++) {
    const enc = encoders[e];
    const rule = preset.encoders[e].hiddenStates;
    const wantsPooled = preset.pooled?.encoder === e;
    const k =
      enc.manifest?.architecture.text?.exportedHiddenStates ?? exportedHiddenStates(enc.session);
    const posOut = rule ? hiddenStateOutput(rule, req.clipSkip, k, enc.id) : null;
    const negOut = rule
      ? hiddenStateOutput(rule, req.clipSkipNegative ? req.clipSkip : 0, k, enc.id)
      : null;
    const fetches = [
      ...new Set([posOut, negOut, wantsPooled ? preset.pooled!.output : null]),
    ].filter((f): f is string => f !== null);
    const sequences: SequenceInput[] = [];
    const add = (s: SequenceInput) => sequences.push(s) - 1;
    const padId = preset.encoders[e].padId;
    const emptyIndex = add(emptyChunk(padId, preset.maxLength));
    // plan[item][chunk] = { base, masked: [{index, weight}] }
    const plan = items.map((it) =>
      it.tokenized[e].chunks.map((chunk) => ({
        chunk,
        base: add(chunk),
        masked: rule && req.weighting === "compel" ? maskedVariants(chunk, add) : [],
      })),
    );
    const rows = await runSequences(sequences, fetches, {
      session: enc.session,
      tensorFactory: options.tensorFactory,
      model: enc.id,
      maxBatch: options.maxBatch,
    });
    if (wantsPooled) pooled = plan.map((p) => rows[preset.pooled!.output][p[0].base]);
    if (!rule) continue;
    const hidden = items.map((_, i) => {
      const out = i < positives.length ? posOut! : negOut!;
      const zEmpty = rows[out][emptyIndex];
      const width = zEmpty.length / preset.maxLength;
      widths[e] = width;
      const chunks = plan[i].map((p) =>
        weighChunk(
          req.weighting,
          p.chunk,
          rows[out][p.base],
          zEmpty,
          width,
          p.masked.map((m) => ({
            z: rows[out][m.index],
            weight: m.weight,
          })),
        ),
      );
      return concatRows(chunks);
    });
    perEncoderHidden.push(hidden);
  }

  const n = req.numImagesPerPrompt;
  const seqLength = chunkCount * preset.maxLength;
  const tensors: Record<string, FloatTensor> = {};
  const width = widths.reduce((a, b) => a + b, 0);
  if (perEncoderHidden.length > 0) {
    const joined = items.map((_, i) =>
      concatFeatures(
        perEncoderHidden.map((h) => h[i]),
        widths,
      ),
    );
    tensors.prompt_embeds = stack(joined.slice(0, positives.length), n, [seqLength, width]);
    if (encodeNegatives) {
      tensors.negative_prompt_embeds = stack(joined.slice(positives.length), n, [seqLength, width]);
    } else if (zeroNegatives) {
      tensors.negative_prompt_embeds = zerosLike(tensors.prompt_embeds);
    }
  }
  if (pooled) {
    const p = pooled as Float32Array[];
    const dim = p[0].length;
    tensors.pooled_prompt_embeds = stack(p.slice(0, positives.length), n, [dim]);
    if (encodeNegatives)
      tensors.negative_pooled_prompt_embeds = stack(p.slice(positives.length), n, [dim]);
    else if (zeroNegatives)
      tensors.negative_pooled_prompt_embeds = zerosLike(tensors.pooled_prompt_embeds);
  }
  const report = (it: Item): PromptReport => {
    const t = it.tokenized[0];
    return {
      text: it.text,
      tokenCount: t.tokenCount,
      chunks: it.ownChunks,
      truncated: t.truncated,
      droppedTokens: t.droppedTokens,
      droppedText: t.droppedText,
    };
  };
  return {
    tensors,
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
      prompts: positives.map(report),
      negativePrompts: req.prompts.map((_, i) => (encodeNegatives ? report(negatives[i]) : null)),
    },
  };
}

/** Compel MASK mode: one masked copy per down-weighted fragment present in the chunk. */
function maskedVariants(chunk: TokenChunk, add: (s: SequenceInput) => number) {
  const out: { index: number; weight: number }[] = [];
  const seen = new Set<number>();
  chunk.fragments.forEach((f, p) => {
    if (f < 0 || seen.has(f) || !(chunk.weights[p] < 1)) return;
    seen.add(f);
    const mask = chunk.fragments.map((g) => (g === f ? 0 : 1));
    out.push({ index: add({ ids: chunk.ids, mask }), weight: chunk.weights[p] });
  });
  return out;
}

function weighChunk(
  mode: NormalisedRequest["weighting"],
  chunk: TokenChunk,
  z: Float32Array,
  zEmpty: Float32Array,
  width: number,
  masked: { z: Float32Array; weight: number }[],
): Float32Array {
  if (mode === "none" || allOnes(chunk.weights)) return z;
  switch (mode) {
    case "a1111":
      return weightA1111(z, chunk.weights, width);
    case "a1111-no-norm":
      return weightMultiply(z, chunk.weights, width);
    case "comfy":
      return weightLerpFromEmpty(z, zEmpty, chunk.weights, width, true);
    case "compel": {
      const base = weightLerpFromEmpty(z, zEmpty, chunk.weights, width, false);
      const without = masked.map((m) =>
        weightLerpFromEmpty(m.z, zEmpty, chunk.weights, width, false),
      );
      return compelBlend(
        base,
        without,
        masked.map((m) => compelLerpWeight(m.weight)),
      );
    }
  }
}

function concatRows(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Concatenates [seq, W_e] blocks along features -> [seq, sum W_e]. */
function concatFeatures(parts: Float32Array[], widths: number[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const total = widths.reduce((a, b) => a + b, 0);
  const seq = parts[0].length / widths[0];
  const out = new Float32Array(seq * total);
  for (let s = 0; s < seq; s++) {
    let at = s * total;
    parts.forEach((p, e) => {
      out.set(p.subarray(s * widths[e], (s + 1) * widths[e]), at);
      at += widths[e];
    });
  }
  return out;
}

/** Stacks rows, each repeated n times consecutively (diffusers num_images_per_prompt). */
function stack(rows: Float32Array[], n: number, inner: number[]): FloatTensor {
  const size = inner.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows.length * n * size);
  rows.forEach((r, i) => {
    for (let k = 0; k < n; k++) data.set(r, (i * n + k) * size);
  });
  return { shape: [rows.length * n, ...inner], data };
}

function zerosLike(t: FloatTensor): FloatTensor {
  return { shape: [...t.shape], data: new Float32Array(t.data.length) };
}
