import type { FloatTensor } from "./types.ts";

/** Concatenates row-major blocks along the first axis. */
export function concatRows(parts: Float32Array[]): Float32Array {
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
export function concatFeatures(parts: Float32Array[], widths: number[]): Float32Array {
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
export function stack(rows: Float32Array[], n: number, inner: number[]): FloatTensor {
  const size = inner.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows.length * n * size);
  rows.forEach((r, i) => {
    for (let k = 0; k < n; k++) data.set(r, (i * n + k) * size);
  });
  return { shape: [rows.length * n, ...inner], data };
}

export function zerosLike(t: FloatTensor): FloatTensor {
  return { shape: [...t.shape], data: new Float32Array(t.data.length) };
}

/**
 * Compel `lerp_embeddings`: sum_i(e_i * w_i), with w normalised to sum 1 when `normalize`
 * (Compel `.blend()`).
 */
export function blendTensors(
  tensors: Float32Array[],
  weights: readonly number[],
  normalize: boolean,
): Float32Array {
  const total = normalize ? weights.reduce((a, b) => a + b, 0) : 1;
  const w = weights.map((x) => x / total);
  const out = new Float32Array(tensors[0].length);
  for (let i = 0; i < out.length; i++) {
    let acc = 0;
    for (let k = 0; k < tensors.length; k++) acc += tensors[k][i] * w[k];
    out[i] = acc;
  }
  return out;
}
