import { quantizeInt8PerColumn } from "./quantize-weights.ts";
import type { LinearParams } from "./tower-weights.ts";

/**
 * Cheap per-Linear sensitivity: the worst relative row error
 * max_r ||y_r - y~_r|| / ||y_r|| of one Linear on captured input rows, where
 * y~ is what the per-token int8 lowering computes (rows quantised with
 * max|x_row| / 127, weights per output column). `smooth` divides the rows by
 * s and multiplies the weight columns by s first (SmoothQuant), as the
 * smoothed graph would see them; `split` channels are taken out of the int8
 * part and computed exactly (splitInt8Linear); `residual` quantises what the
 * first rounding lost a second time (int8ResidualLinear). Pure JS over a row sample: it ranks Linears
 * for the guard, which then confirms the plan end to end.
 */
export function int8RowError(
  sample: Float32Array,
  rows: number,
  p: LinearParams,
  smooth?: Float32Array,
  split: readonly number[] = [],
  residual = false,
): number {
  const k = p.inFeatures;
  const n = p.outFeatures;
  const exact = new Uint8Array(k);
  for (const c of split) exact[c] = 1;
  let weight = p.weight;
  if (smooth) {
    weight = new Float32Array(p.weight.length);
    for (let o = 0; o < n; o++)
      for (let j = 0; j < k; j++) weight[o * k + j] = p.weight[o * k + j] * smooth[j];
  }
  const rest = split.length ? weight.map((v, i) => (exact[i % k] ? 0 : v)) : weight;
  const wq = quantizeInt8PerColumn(rest, n, k); // data [k, n]
  // Dequantised weights back in [n, k] for a row-major inner loop (split columns exact).
  const wd = new Float32Array(n * k);
  for (let j = 0; j < k; j++)
    for (let o = 0; o < n; o++)
      wd[o * k + j] = exact[j] ? weight[o * k + j] : wq.data[j * n + o] * wq.scales[o];
  const x = new Float32Array(k);
  const xd = new Float32Array(k);
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    let amax = 0;
    for (let j = 0; j < k; j++) {
      const v = sample[r * k + j] / (smooth ? smooth[j] : 1);
      x[j] = v;
      if (!exact[j]) amax = Math.max(amax, Math.abs(v));
    }
    const s = Math.max(amax / 127, 1e-30);
    for (let j = 0; j < k; j++) xd[j] = exact[j] ? x[j] : Math.round(x[j] / s) * s;
    if (residual) {
      // int8ResidualLinear: what the first rounding lost, quantised again per row.
      let rmax = 0;
      for (let j = 0; j < k; j++) rmax = Math.max(rmax, Math.abs(x[j] - xd[j]));
      const s2 = Math.max(rmax / 127, 1e-30);
      for (let j = 0; j < k; j++) xd[j] += Math.round((x[j] - xd[j]) / s2) * s2;
    }
    let err = 0;
    let ref = 0;
    for (let o = 0; o < n; o++) {
      let y = 0;
      let yq = 0;
      const row = o * k;
      for (let j = 0; j < k; j++) {
        y += x[j] * weight[row + j];
        yq += xd[j] * wd[row + j];
      }
      const b = p.bias?.[o] ?? 0;
      err += (y - yq) ** 2;
      ref += (y + b) ** 2;
    }
    if (ref > 0) worst = Math.max(worst, Math.sqrt(err / ref));
  }
  return worst;
}
