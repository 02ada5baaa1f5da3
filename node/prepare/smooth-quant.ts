import type {
  EncoderLayerParams,
  LayerNormParams,
  LinearParams,
  TextTowerWeights,
} from "./tower-weights.ts";

/**
 * SmoothQuant-style smoothing (Xiao et al. 2022) of the two Linears that follow
 * a LayerNorm in each layer (q/k/v after layer_norm1, fc1 after layer_norm2):
 * per input channel j, s_j = max|X_j|^alpha / max|W_:,j|^(1 - alpha), the
 * LayerNorm's weight and bias are divided by s and the Linear's weight columns
 * multiplied by s. (LN(x) * g / s + b / s) @ (W diag(s))^T = (LN(x) * g + b) @ W^T,
 * so in fp32 the rewrite is exact; it moves activation outliers into the
 * weights, which per-column weight scales absorb better than per-token
 * activation scales do.
 */
export const DEFAULT_SMOOTHING_ALPHA = 0.5;
const MIN_FACTOR = 1e-5;
const MAX_FACTOR = 1e5;

/** The Linears smoothing applies to: `layer<i>.qkv` and `layer<i>.fc1`. */
export function isSmoothable(name: string): boolean {
  return /^layer\d+\.(qkv|fc1)$/.test(name);
}

/** s_j from the per-channel activation max and the Linears' weights [out, in] (all rows of all of them). */
export function smoothingFactors(
  actMax: Float32Array,
  linears: LinearParams[],
  alpha = DEFAULT_SMOOTHING_ALPHA,
): Float32Array {
  const n = actMax.length;
  const wMax = new Float32Array(n);
  for (const p of linears) {
    for (let o = 0; o < p.outFeatures; o++) {
      const row = o * p.inFeatures;
      for (let j = 0; j < n; j++) wMax[j] = Math.max(wMax[j], Math.abs(p.weight[row + j]));
    }
  }
  const s = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const v = actMax[j] > 0 && wMax[j] > 0 ? actMax[j] ** alpha / wMax[j] ** (1 - alpha) : 1;
    s[j] = Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, v));
  }
  return s;
}

function divideLn(ln: LayerNormParams, s: Float32Array): LayerNormParams {
  return {
    weight: ln.weight.map((v, j) => v / s[j]),
    bias: ln.bias.map((v, j) => v / s[j]),
  };
}

function scaleColumns(p: LinearParams, s: Float32Array): LinearParams {
  const weight = new Float32Array(p.weight.length);
  for (let o = 0; o < p.outFeatures; o++) {
    const row = o * p.inFeatures;
    for (let j = 0; j < p.inFeatures; j++) weight[row + j] = p.weight[row + j] * s[j];
  }
  return { ...p, weight };
}

/** One layer with its q/k/v (`qkv`) and/or fc1 (`fc1`) smoothed by the given factors. */
export function smoothLayer(
  p: EncoderLayerParams,
  factors: { qkv?: Float32Array; fc1?: Float32Array },
): EncoderLayerParams {
  let out = p;
  if (factors.qkv) {
    const s = factors.qkv;
    out = {
      ...out,
      ln1: divideLn(p.ln1, s),
      q: scaleColumns(p.q, s),
      k: scaleColumns(p.k, s),
      v: scaleColumns(p.v, s),
    };
  }
  if (factors.fc1) {
    out = { ...out, ln2: divideLn(p.ln2, factors.fc1), fc1: scaleColumns(p.fc1, factors.fc1) };
  }
  return out;
}

/** Text weights with the Linears named in `factors` (`layer<i>.qkv`, `layer<i>.fc1`) smoothed. */
export function applySmoothing(
  w: TextTowerWeights,
  factors: ReadonlyMap<string, Float32Array>,
): TextTowerWeights {
  if (factors.size === 0) return w;
  return {
    ...w,
    layers: w.layers.map((layer, i) =>
      smoothLayer(layer, {
        qkv: factors.get(`layer${i}.qkv`),
        fc1: factors.get(`layer${i}.fc1`),
      }),
    ),
  };
}
