import type { TextConfig, VisionConfig } from "../../node/prepare/clip-config.ts";
import type {
  EncoderLayerParams,
  LayerNormParams,
  LinearParams,
  TextTowerWeights,
  VisionTowerWeights,
} from "../../node/prepare/tower-weights.ts";

/**
 * Deterministic random weights at real CLIP dimensions. Values are
 * approximately normal (sum of three uniforms) with the scale of a trained
 * model's init (linears ~ 1/sqrt(in)), so activations stay O(1) through the
 * pre-LN residual stack and quantisation error is meaningful, though not that
 * of trained weights (no outlier channels).
 */
export interface RandomSource {
  fill(out: Float32Array, std: number): Float32Array;
}

export function createRandomSource(seed: number): RandomSource {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  return {
    fill(out, std) {
      // Sum of 3 U(0,1) has variance 1/4; centre and rescale to `std`.
      const k = 2 * std;
      for (let i = 0; i < out.length; i++) out[i] = (next() + next() + next() - 1.5) * k;
      return out;
    },
  };
}

function linear(r: RandomSource, out: number, inp: number, bias = true): LinearParams {
  return {
    weight: r.fill(new Float32Array(out * inp), 1 / Math.sqrt(inp)),
    ...(bias ? { bias: r.fill(new Float32Array(out), 0.02) } : {}),
    outFeatures: out,
    inFeatures: inp,
  };
}

function layerNorm(r: RandomSource, w: number): LayerNormParams {
  const weight = r.fill(new Float32Array(w), 0.05);
  for (let i = 0; i < w; i++) weight[i] += 1;
  return { weight, bias: r.fill(new Float32Array(w), 0.02) };
}

function layer(r: RandomSource, w: number, inter: number): EncoderLayerParams {
  return {
    ln1: layerNorm(r, w),
    q: linear(r, w, w),
    k: linear(r, w, w),
    v: linear(r, w, w),
    out: linear(r, w, w),
    ln2: layerNorm(r, w),
    fc1: linear(r, inter, w),
    fc2: linear(r, w, inter),
  };
}

export function synthTextWeights(
  cfg: TextConfig,
  projectionDim: number,
  seed = 1,
): TextTowerWeights {
  const r = createRandomSource(seed);
  const w = cfg.hiddenSize;
  return {
    tokenEmbedding: r.fill(new Float32Array(cfg.vocabSize * w), 0.02),
    positionEmbedding: r.fill(new Float32Array(cfg.maxPositions * w), 0.01),
    layers: Array.from({ length: cfg.numLayers }, () => layer(r, w, cfg.intermediateSize)),
    finalLn: layerNorm(r, w),
    projection: linear(r, projectionDim, w, false),
  };
}

export function synthVisionWeights(
  cfg: VisionConfig,
  projectionDim: number,
  seed = 2,
): VisionTowerWeights {
  const r = createRandomSource(seed);
  const { hiddenSize: w, patchSize: ps, numChannels: c } = cfg;
  const positions = (cfg.imageSize / ps) ** 2 + 1;
  return {
    classEmbedding: r.fill(new Float32Array(w), 0.02),
    patchEmbedding: r.fill(new Float32Array(w * c * ps * ps), 1 / Math.sqrt(c * ps * ps)),
    positionEmbedding: r.fill(new Float32Array(positions * w), 0.01),
    preLn: layerNorm(r, w),
    layers: Array.from({ length: cfg.numLayers }, () => layer(r, w, cfg.intermediateSize)),
    postLn: layerNorm(r, w),
    projection: linear(r, projectionDim, w, false),
  };
}
