import type { SequenceInput } from "./encoder-runner.ts";
import type { WeightingMode } from "./request-schema.ts";
import type { TokenChunk } from "./token-chunks.ts";
import {
  allOnes,
  compelBlend,
  compelLerpWeight,
  weightA1111,
  weightLerpFromEmpty,
  weightMultiply,
} from "./weighting.ts";

/** Compel MASK mode: one masked copy per down-weighted fragment present in the chunk. */
export function maskedVariants(
  chunk: TokenChunk,
  add: (s: SequenceInput) => number,
): { index: number; weight: number }[] {
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

/** How many masked copies `maskedVariants` adds for `chunk` (without building them). */
export function countMaskedVariants(chunk: TokenChunk): number {
  const seen = new Set<number>();
  chunk.fragments.forEach((f, p) => {
    if (f >= 0 && chunk.weights[p] < 1) seen.add(f);
  });
  return seen.size;
}

/** Applies the weighting formula to one chunk's hidden states (unchanged when all weights are 1). */
export function weighChunk(
  mode: WeightingMode,
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
