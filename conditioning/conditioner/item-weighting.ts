/**
 * The weight stage: an item's encoded chunks -> its hidden states [77 * chunks, W]
 * (per-chunk weighting formula, Compel blends and conjunction weights, trailing
 * empty-prompt chunks).
 */
import { weighChunk } from "./chunk-weighting.ts";
import type { ItemPart } from "./prompt-items.ts";
import type { WeightingMode } from "./request-schema.ts";
import { blendTensors, concatRows } from "./tensor-ops.ts";
import type { TokenChunk } from "./token-chunks.ts";
import { weightLerpFromEmpty } from "./weighting.ts";

/** A chunk in the encoder's batch: its row, and Compel's masked copies (down-weighting). */
export interface PlannedChunk {
  chunk: TokenChunk;
  /** Row of the chunk itself. */
  base: number;
  masked: { index: number; weight: number }[];
}

/** Per part, per member, per chunk. */
export type ItemPlan = PlannedChunk[][][];

export interface WeighContext {
  weighting: WeightingMode;
  /** Rows of the hidden-state output this item reads (positive or negative clip skip). */
  rows: Float32Array[];
  /** The empty prompt's hidden states [77, W]. */
  zEmpty: Float32Array;
  width: number;
  maxLength: number;
}

/** One member: its chunks weighted and concatenated. */
function weighMember(chunks: PlannedChunk[], ctx: WeighContext): Float32Array {
  return concatRows(
    chunks.map((c) =>
      weighChunk(
        ctx.weighting,
        c.chunk,
        ctx.rows[c.base],
        ctx.zEmpty,
        ctx.width,
        c.masked.map((m) => ({ z: ctx.rows[m.index], weight: m.weight })),
      ),
    ),
  );
}

/** One part: its members blended (Compel `.blend()`), then its conjunction weight applied. */
function weighPart(part: ItemPart, plan: PlannedChunk[][], ctx: WeighContext): Float32Array {
  const members = plan.map((chunks) => weighMember(chunks, ctx));
  let z =
    members.length === 1 && part.memberWeights[0] === 1
      ? members[0]
      : blendTensors(members, part.memberWeights, part.normalize);
  if (part.weight !== 1) {
    // Compel conjunction weight: lerp from the empty prompt's encoding.
    const emptyRepeated = concatRows(new Array(part.chunkCount).fill(ctx.zEmpty));
    const weights = new Array(part.chunkCount * ctx.maxLength).fill(part.weight);
    z = weightLerpFromEmpty(z, emptyRepeated, weights, ctx.width, false);
  }
  return z;
}

/** An item's hidden states: its parts along tokens, then `trailing` empty-prompt chunks. */
export function weighItem(
  item: { parts: ItemPart[]; trailing: number },
  plan: ItemPlan,
  ctx: WeighContext,
): Float32Array {
  const parts = item.parts.map((part, p) => weighPart(part, plan[p], ctx));
  return concatRows([...parts, ...new Array(item.trailing).fill(ctx.zEmpty)]);
}
