import type { TensorFactory } from "../encoder/session.ts";
import { ClipEdgeError } from "../errors.ts";
import { maskedVariants, weighChunk } from "./chunk-weighting.ts";
import { hiddenStateOutput } from "./clip-skip.ts";
import { buildComfyChunks } from "./comfy-chunks.ts";
import { a1111Composition } from "./composition.ts";
import { defaultPromptParsers } from "./default-parsers.ts";
import { exportedHiddenStates, runSequences, type SequenceInput } from "./encoder-runner.ts";
import { type PromptParsers, promptStructure } from "./fragments.ts";
import { getPreset, type Preset } from "./presets.ts";
import { type NormalisedRequest, normaliseRequest } from "./request.ts";
import { blendTensors, concatFeatures, concatRows, stack, zerosLike } from "./tensor-ops.ts";
import {
  buildTokenChunks,
  emptyChunk,
  type TokenChunk,
  type TokenizedPrompt,
} from "./token-chunks.ts";
import type {
  ComposedConditioning,
  ConditioningEntryReport,
  ConditioningRequest,
  ConditioningResult,
  EncoderBinding,
  FloatTensor,
  PromptReport,
} from "./types.ts";
import { weightLerpFromEmpty } from "./weighting.ts";

export interface ConditionerOptions {
  preset: string | Preset;
  /** One per preset encoder, in the preset's order (sdxl: CLIP-L, then bigG). */
  encoders: EncoderBinding[];
  tensorFactory: TensorFactory;
  /** Prompt parsers per syntax; default: conditioning/prompt's A1111, ComfyUI and Compel. */
  parsers?: PromptParsers;
  /** Largest batch per session.run (default 16). */
  maxBatch?: number;
  /** Most 77-token chunks per prompt in chunk mode (default 32); more is `too_large`. */
  maxChunks?: number;
  /** composition "a1111": most conditionings per request (default 256); more is `too_large`. */
  maxConditionings?: number;
}

export interface Conditioner {
  readonly preset: Preset;
  encode(request: ConditioningRequest): Promise<ConditioningResult>;
}

/** One conjunction part: its blend members, tokenised for one encoder. */
interface ItemPart {
  weight: number;
  memberWeights: number[];
  normalize: boolean;
  /** Per member; chunks padded to `chunkCount` with empty-prompt chunks. */
  members: TokenizedPrompt[];
  chunkCount: number;
}

/** A prompt as one encoder sees it (sdxl's encoder 2 may get prompt_2). */
interface EncoderItem {
  text: string;
  parts: ItemPart[];
  /** Chunks of the prompt itself (sum over parts), before padding to the request's count. */
  ownChunks: number;
  /** Empty-prompt chunks appended so every item has the request's chunk count. */
  trailing: number;
}

/** One prompt (or negative prompt): per encoder. */
type Item = EncoderItem[];

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
  const empty = (e: number) => emptyChunk(preset.encoders[e].padId, preset.maxLength);
  const tokenizeFor = (text: string, e: number): EncoderItem => {
    const structure = promptStructure(text, req.syntax, parsers, req.longPrompt);
    const parts = structure.parts.map((part): ItemPart => {
      const chunkOptions = {
        mode: req.longPrompt,
        padId: preset.encoders[e].padId,
        maxLength: preset.maxLength,
        commaBacktrack: req.commaBacktrack,
      };
      // ComfyUI syntax chunks the way ComfyUI does (whole words, per-word tokenisation).
      const comfy = req.syntax === "comfy" && req.longPrompt === "chunk";
      const members = part.members.map((fragments) =>
        comfy
          ? buildComfyChunks(fragments, encoders[e].tokenizer, chunkOptions)
          : buildTokenChunks(fragments, encoders[e].tokenizer, chunkOptions),
      );
      const chunkCount = Math.max(...members.map((t) => t.chunks.length));
      for (const t of members) while (t.chunks.length < chunkCount) t.chunks.push(empty(e));
      return { ...part, members, chunkCount };
    });
    const ownChunks = parts.reduce((a, p) => a + p.chunkCount, 0);
    return { text, parts, ownChunks, trailing: 0 };
  };
  // Encoder 2 (sdxl text_encoder_2) reads prompt_2 when given; diffusers' `prompt_2 or prompt`
  // also falls back for "" (same for negative_prompt_2).
  const tokenize = (text: string, text2: string | null): Item =>
    encoders.map((_, e) => tokenizeFor(e === 1 && text2 !== null ? text2 : text, e));
  if (encoders.length < 2 && (req.prompts2 || req.negatives2)) {
    throw new ClipEdgeError(
      "invalid_request",
      `prompt_2 / negative_prompt_2 need a two-encoder preset (sdxl); ${preset.name} has one`,
    );
  }
  const positives = req.prompts.map((p, i) => tokenize(p, req.prompts2?.[i] || null));
  // Negative texts: null = zeros (sdxl force_zeros) or absent (flux / no guidance).
  const zeroNegatives = req.guidance && !req.negativeGiven && preset.forceZerosForEmptyNegative;
  const encodeNegatives =
    req.guidance && !zeroNegatives && (req.negativeGiven || !preset.negativeOnlyWhenGiven);
  const negatives = encodeNegatives
    ? req.negatives.map((n, i) => tokenize(n ?? "", req.negatives2?.[i] || null))
    : [];
  // composition "a1111": every AND part's scheduled texts, each encoded once like a prompt.
  const composed = req.composition ? composeEntries(req, encodeNegatives, options) : null;
  const composedItems = composed ? composed.texts.map((t) => tokenize(t, null)) : [];
  const items = [...positives, ...negatives, ...composedItems];
  const isNegative = (i: number) =>
    i >= positives.length && i < positives.length + negatives.length;
  const chunkCount = Math.max(...items.flat().map((it) => it.ownChunks));
  const maxChunks = options.maxChunks ?? 32;
  if (chunkCount > maxChunks) {
    const worst = items.flat().find((it) => it.ownChunks === chunkCount)!;
    throw new ClipEdgeError(
      "too_large",
      `prompt ${JSON.stringify(worst.text.slice(0, 40))} needs ${chunkCount} chunks of 75 tokens (${chunkCount * preset.maxLength} positions), more than the limit of ${maxChunks}`,
      { details: { chunks: chunkCount, maxChunks } },
    );
  }
  for (const it of items.flat()) it.trailing = chunkCount - it.ownChunks;

  const perEncoderHidden: Float32Array[][] = []; // [encoder][item] -> [77*n, W]
  const widths: number[] = [];
  let pooled: Float32Array[] | null = null;
  for (let e = 0; e < encoders.length; e++) {
    const enc = encoders[e];
    const rule = preset.encoders[e].hiddenStates;
    const pooledOut = preset.pooled?.encoder === e ? preset.pooled.output : null;
    const k =
      enc.manifest?.architecture.text?.exportedHiddenStates ?? exportedHiddenStates(enc.session);
    const posOut = rule ? hiddenStateOutput(rule, req.clipSkip, k, enc.id) : null;
    const negOut = rule
      ? hiddenStateOutput(rule, req.clipSkipNegative ? req.clipSkip : 0, k, enc.id)
      : null;
    const fetches = [...new Set([posOut, negOut, pooledOut])].filter(
      (f): f is string => f !== null,
    );
    const sequences: SequenceInput[] = [];
    const add = (s: SequenceInput) => sequences.push(s) - 1;
    const emptyIndex = add(empty(e));
    const planChunk = (chunk: TokenChunk) => ({
      chunk,
      base: add(chunk),
      masked: rule && req.weighting === "compel" ? maskedVariants(chunk, add) : [],
    });
    // plan[item][part][member][chunk]
    const plan = items.map((it) =>
      it[e].parts.map((part) => part.members.map((m) => m.chunks.map(planChunk))),
    );
    // Pooled-only encoders (flux) run only up to the longest EOT: exact under the causal mask.
    const eotLength = Math.max(2, ...plan.flat(3).map((p) => p.chunk.tokenCount + 2));
    const feed = rule ? sequences : sequences.map((s) => ({ ids: s.ids.slice(0, eotLength) }));
    const rows = await runSequences(feed, fetches, {
      session: enc.session,
      tensorFactory: options.tensorFactory,
      model: enc.id,
      maxBatch: options.maxBatch,
    });
    // Pooled vector: the first chunk of the first part's first member.
    if (pooledOut) pooled = plan.map((p) => rows[pooledOut][p[0][0][0].base]);
    if (!rule) continue;
    const hidden = items.map((encoderItems, i) => {
      const item = encoderItems[e];
      const out = isNegative(i) ? negOut! : posOut!;
      const zEmpty = rows[out][emptyIndex];
      const width = zEmpty.length / preset.maxLength;
      widths[e] = width;
      const parts = item.parts.map((part, p) => {
        const members = plan[i][p].map((chunks) =>
          concatRows(
            chunks.map((c) =>
              weighChunk(
                req.weighting,
                c.chunk,
                rows[out][c.base],
                zEmpty,
                width,
                c.masked.map((m) => ({ z: rows[out][m.index], weight: m.weight })),
              ),
            ),
          ),
        );
        let z =
          members.length === 1 && part.memberWeights[0] === 1
            ? members[0]
            : blendTensors(members, part.memberWeights, part.normalize);
        if (part.weight !== 1) {
          // Compel conjunction weight: lerp from the empty prompt's encoding.
          const emptyRepeated = concatRows(new Array(part.chunkCount).fill(zEmpty));
          const weights = new Array(part.chunkCount * preset.maxLength).fill(part.weight);
          z = weightLerpFromEmpty(z, emptyRepeated, weights, width, false);
        }
        return z;
      });
      return concatRows([...parts, ...new Array(item.trailing).fill(zEmpty)]);
    });
    perEncoderHidden.push(hidden);
  }

  const n = req.numImagesPerPrompt;
  const seqLength = chunkCount * preset.maxLength;
  const tensors: Record<string, FloatTensor> = {};
  const width = widths.reduce((a, b) => a + b, 0);
  let joined: Float32Array[] | null = null;
  if (perEncoderHidden.length > 0) {
    joined = items.map((_, i) =>
      concatFeatures(
        perEncoderHidden.map((h) => h[i]),
        widths,
      ),
    );
    tensors.prompt_embeds = stack(joined.slice(0, positives.length), n, [seqLength, width]);
    if (encodeNegatives) {
      tensors.negative_prompt_embeds = stack(
        joined.slice(positives.length, positives.length + negatives.length),
        n,
        [seqLength, width],
      );
    } else if (zeroNegatives) {
      tensors.negative_prompt_embeds = zerosLike(tensors.prompt_embeds);
    }
  }
  if (pooled) {
    const p = pooled as Float32Array[];
    const dim = p[0].length;
    tensors.pooled_prompt_embeds = stack(p.slice(0, positives.length), n, [dim]);
    if (encodeNegatives) {
      tensors.negative_pooled_prompt_embeds = stack(
        p.slice(positives.length, positives.length + negatives.length),
        n,
        [dim],
      );
    } else if (zeroNegatives) {
      tensors.negative_pooled_prompt_embeds = zerosLike(tensors.pooled_prompt_embeds);
    }
  }
  let conditionings: { positive: ComposedConditioning[]; negative: ComposedConditioning[] } | null =
    null;
  if (composed) {
    // One tensor per distinct text; entries with the same text share it.
    const base = positives.length + negatives.length;
    const perText = composed.texts.map((_, t) => {
      const out: Pick<ComposedConditioning, "prompt_embeds" | "pooled_prompt_embeds"> = {};
      if (joined) out.prompt_embeds = stack([joined[base + t]], n, [seqLength, width]);
      if (pooled) {
        const row = (pooled as Float32Array[])[base + t];
        out.pooled_prompt_embeds = stack([row], n, [row.length]);
      }
      return out;
    });
    const withTensors = (entries: ComposedEntry[]) =>
      entries.map(({ textIndex, ...entry }) => ({ ...entry, ...perText[textIndex] }));
    conditionings = {
      positive: withTensors(composed.positive),
      negative: withTensors(composed.negative),
    };
  }
  const reportOf = (entries: ComposedEntry[]): ConditioningEntryReport[] =>
    entries.map(({ textIndex: _, ...entry }) => entry);
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
      prompts: positives.map(report),
      negativePrompts: req.prompts.map((_, i) => (encodeNegatives ? report(negatives[i]) : null)),
      ...(composed && {
        conditionings: reportOf(composed.positive),
        ...(encodeNegatives && { negativeConditionings: reportOf(composed.negative) }),
      }),
    },
  };
}

interface ComposedEntry extends ConditioningEntryReport {
  /** Index into the distinct texts to encode. */
  textIndex: number;
}

/**
 * A1111 composition of a request: prompts split on AND and scheduled
 * (`get_multicond_learned_conditioning`), negative prompts scheduled only
 * (`get_learned_conditioning`); identical texts are encoded once.
 */
function composeEntries(
  req: NormalisedRequest,
  withNegatives: boolean,
  options: ConditionerOptions,
): { texts: string[]; positive: ComposedEntry[]; negative: ComposedEntry[] } {
  const texts: string[] = [];
  const index = new Map<string, number>();
  const textIndex = (text: string) => {
    let t = index.get(text);
    if (t === undefined) {
      t = texts.push(text) - 1;
      index.set(text, t);
    }
    return t;
  };
  const compose = (prompts: string[], splitAnd: boolean) =>
    prompts.flatMap((prompt, i) =>
      a1111Composition(prompt, req.steps, { splitAnd }).map(
        (entry): ComposedEntry => ({
          prompt_index: i,
          part: entry.part,
          text: entry.text,
          weight: entry.weight,
          steps: entry.steps,
          textIndex: textIndex(entry.text),
        }),
      ),
    );
  const positive = compose(req.prompts, true);
  const negative = withNegatives
    ? compose(
        req.negatives.map((n) => n ?? ""),
        false,
      )
    : [];
  const max = options.maxConditionings ?? 256;
  const count = positive.length + negative.length;
  if (count > max) {
    throw new ClipEdgeError(
      "too_large",
      `composition gives ${count} conditionings (AND parts x schedule ranges), more than the limit of ${max}`,
      { details: { conditionings: count, maxConditionings: max } },
    );
  }
  return { texts, positive, negative };
}

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
