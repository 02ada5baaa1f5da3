/**
 * The encode stage: per encoder, every chunk of every item (and Compel's masked copies)
 * in one batch through the text graph, then each item weighted (`item-weighting.ts`).
 */
import type { TensorFactory } from "../encoder/session.ts";
import { maskedVariants } from "./chunk-weighting.ts";
import { hiddenStateOutput } from "./clip-skip.ts";
import { exportedHiddenStates, runSequences, type SequenceInput } from "./encoder-runner.ts";
import { type ItemPlan, type PlannedChunk, weighItem } from "./item-weighting.ts";
import type { HiddenStateRule, Preset } from "./presets.ts";
import type { Item } from "./prompt-items.ts";
import type { NormalisedRequest } from "./request.ts";
import { emptyChunk, type TokenChunk } from "./token-chunks.ts";
import type { EncoderBinding } from "./types.ts";
import { assertFiniteRows } from "./weight-bounds.ts";

export interface EncodedItems {
  /** Per encoder with hidden states, per item: [77 * chunks, W]. */
  hidden: Float32Array[][];
  /** Hidden-state width per encoder index. */
  widths: number[];
  /** Per item, the pooled vector of the preset's pooled encoder (null: no pooled output). */
  pooled: Float32Array[] | null;
}

export interface EncodeOptions {
  preset: Preset;
  encoders: EncoderBinding[];
  tensorFactory: TensorFactory;
  maxBatch?: number;
}

/** The graph outputs encoder `e` is read from. */
interface EncoderOutputs {
  rule: HiddenStateRule | null;
  positive: string | null;
  negative: string | null;
  pooled: string | null;
  fetches: string[];
}

function encoderOutputs(e: number, req: NormalisedRequest, options: EncodeOptions): EncoderOutputs {
  const { preset } = options;
  const enc = options.encoders[e];
  const rule = preset.encoders[e].hiddenStates ?? null;
  const pooled = preset.pooled?.encoder === e ? preset.pooled.output : null;
  const k =
    enc.manifest?.architecture.text?.exportedHiddenStates ?? exportedHiddenStates(enc.session);
  const positive = rule ? hiddenStateOutput(rule, req.clipSkip, k, enc.id) : null;
  const negative = rule
    ? hiddenStateOutput(rule, req.clipSkipNegative ? req.clipSkip : 0, k, enc.id)
    : null;
  const fetches = [...new Set([positive, negative, pooled])].filter((f): f is string => f !== null);
  return { rule, positive, negative, pooled, fetches };
}

/** The batch of one encoder: the empty prompt first, then every chunk (and masked copy). */
function planSequences(
  items: Item[],
  e: number,
  withMasks: boolean,
  empty: TokenChunk,
): { sequences: SequenceInput[]; plans: ItemPlan[]; emptyIndex: number } {
  const sequences: SequenceInput[] = [];
  const add = (s: SequenceInput) => sequences.push(s) - 1;
  const emptyIndex = add(empty);
  const planChunk = (chunk: TokenChunk): PlannedChunk => ({
    chunk,
    base: add(chunk),
    masked: withMasks ? maskedVariants(chunk, add) : [],
  });
  const plans = items.map((it) =>
    it[e].parts.map((part) => part.members.map((m) => m.chunks.map(planChunk))),
  );
  return { sequences, plans, emptyIndex };
}

/** Runs every encoder over the items; `isNegative(i)` picks the negative path's output. */
export async function encodeItems(
  items: Item[],
  isNegative: (i: number) => boolean,
  req: NormalisedRequest,
  options: EncodeOptions,
): Promise<EncodedItems> {
  const { preset, encoders } = options;
  const hidden: Float32Array[][] = [];
  const widths: number[] = [];
  let pooled: Float32Array[] | null = null;
  for (let e = 0; e < encoders.length; e++) {
    const outputs = encoderOutputs(e, req, options);
    const { rule } = outputs;
    const empty = emptyChunk(preset.encoders[e].padId, preset.maxLength);
    const withMasks = rule !== null && req.weighting === "compel";
    const { sequences, plans, emptyIndex } = planSequences(items, e, withMasks, empty);
    // Pooled-only encoders (flux) run only up to the longest EOT: exact under the causal mask.
    const eotLength = Math.max(2, ...plans.flat(3).map((p) => p.chunk.tokenCount + 2));
    const feed = rule ? sequences : sequences.map((s) => ({ ids: s.ids.slice(0, eotLength) }));
    const rows = await runSequences(feed, outputs.fetches, {
      session: encoders[e].session,
      tensorFactory: options.tensorFactory,
      model: encoders[e].id,
      maxBatch: options.maxBatch,
    });
    // Pooled vector: the first chunk of the first part's first member.
    if (outputs.pooled) {
      const pooledRows = rows[outputs.pooled];
      pooled = plans.map((p) => pooledRows[p[0][0][0].base]);
    }
    if (!rule) continue;
    hidden.push(
      items.map((item, i) => {
        const out = rows[(isNegative(i) ? outputs.negative : outputs.positive)!];
        const zEmpty = out[emptyIndex];
        const width = zEmpty.length / preset.maxLength;
        widths[e] = width;
        const ctx = {
          weighting: req.weighting,
          rows: out,
          zEmpty,
          width,
          maxLength: preset.maxLength,
        };
        const z = weighItem(item[e], plans[i], ctx);
        if (req.weighting !== "none") assertFiniteRows(z, width, item[e].text, req.weighting);
        return z;
      }),
    );
  }
  return { hidden, widths, pooled };
}
