/**
 * Prompt-weighting formulas on one chunk's hidden states z ([seq, width], row-major).
 * `weights` has one entry per position (1 for SOT/EOT/padding). Each function returns
 * a new array; callers skip them entirely when every weight is 1 (bit-identical).
 */

export function allOnes(weights: readonly number[]): boolean {
  for (const w of weights) if (w !== 1) return false;
  return true;
}

/** `z * w` per position (A1111 "No norm"). */
export function weightMultiply(
  z: Float32Array,
  weights: readonly number[],
  width: number,
): Float32Array {
  const out = new Float32Array(z.length);
  for (let p = 0; p < weights.length; p++) {
    const w = weights[p];
    const base = p * width;
    for (let i = 0; i < width; i++) out[base + i] = z[base + i] * w;
  }
  return out;
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/**
 * A1111 "Original": `z' = z * w`, then `z' *= mean(z) / mean(z')` where the means are
 * over the whole chunk tensor (SOT, EOT and padding rows included). Means in float64.
 */
export function weightA1111(
  z: Float32Array,
  weights: readonly number[],
  width: number,
): Float32Array {
  const originalMean = mean(z);
  const out = weightMultiply(z, weights, width);
  const newMean = mean(out);
  const factor = originalMean / newMean;
  if (!Number.isFinite(factor)) return out;
  for (let i = 0; i < out.length; i++) out[i] = out[i] * factor;
  return out;
}

/** ComfyUI / Compel: `z' = z_empty + (z - z_empty) * w` per position. */
export function weightLerpFromEmpty(
  z: Float32Array,
  zEmpty: Float32Array,
  weights: readonly number[],
  width: number,
  onlyChanged = true,
): Float32Array {
  const out = new Float32Array(z);
  for (let p = 0; p < weights.length; p++) {
    const w = weights[p];
    if (onlyChanged && w === 1) continue;
    const base = p * width;
    for (let i = base; i < base + width; i++) {
      out[i] = Math.fround(z[i] - zEmpty[i]) * w + zEmpty[i];
    }
  }
  return out;
}

/** Compel's lerp weight for the copy with a down-weighted fragment masked out. */
export function compelLerpWeight(fragmentWeight: number): number {
  const w = Math.max(1e-5, fragmentWeight);
  return Math.tan(((1 - w) * Math.PI) / 2);
}

/** Compel's `lerp_embeddings(normalize=True)`: sum_i(e_i * l_i) / sum_i(l_i), l_0 = 1. */
export function compelBlend(
  base: Float32Array,
  without: readonly Float32Array[],
  lerpWeights: readonly number[],
): Float32Array {
  if (without.length === 0) return base;
  let total = 1;
  for (const l of lerpWeights) total += l;
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    let acc = base[i] * (1 / total);
    for (let k = 0; k < without.length; k++) acc += without[k][i] * (lerpWeights[k] / total);
    out[i] = acc;
  }
  return out;
}
