import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toFloat16Array } from "../../conditioning/formats/float16.ts";
import { serializeSafetensors } from "../../conditioning/formats/safetensors.ts";
import {
  CLIP_L14_TEXT,
  createSyntheticCheckpoint,
  type SyntheticCheckpoint,
  type SyntheticOptions,
  type SyntheticTextDims,
} from "./synthetic-checkpoint.ts";

/**
 * An outlier-realistic synthetic CLIP text tower: the random checkpoint of
 * synthetic-checkpoint.ts with the three kinds of outliers that trained
 * transformers (CLIP's text tower among them) are known to have, injected
 * deterministically so they really show up in the activations:
 *
 * - Massive activations at the start position (the "attention sink"): the
 *   position-0 embedding carries +-`massiveValue` in `massiveChannels`
 *   residual channels. The residual connections carry them through every
 *   layer, so the residual stream at position 0 is ~100x larger in those
 *   channels than anywhere else, and each LayerNorm output at position 0 is
 *   dominated by them.
 * - High-gain LayerNorm channels: in every layer's layer_norm1 and
 *   layer_norm2, `gainChannels` channels get a gain of 10-20x, so every
 *   token's input to q/k/v and fc1 has a few channels 10-20x larger than the
 *   rest (the per-channel outliers SmoothQuant targets). The Linears reading
 *   them (q/k/v, fc1) have their weight columns for those channels divided by
 *   the gain, as trained weights tend to, so the fp32 function stays tame.
 * - Hot MLP units: in every layer `hotUnits` fc1 units have their weight row
 *   scaled by `hotScale` and a positive bias, so their post-activation values
 *   are large for every token (fc2's input outliers); fc2's matching columns
 *   are scaled down by the same factor, so the residual update stays moderate.
 *
 * It is a proxy for a trained checkpoint, not trained weights: the outliers
 * have the shapes and magnitudes reported for trained CLIP/LLM towers, but the
 * rest of the weights are noise, so it says how quantisation copes with
 * outliers, not what a real checkpoint's numbers will be. Use `clip-edge
 * prepare` (its accuracy guard) on real weights for those.
 */
export interface OutlierSpec {
  /** Residual channels with massive activations at position 0. */
  massiveChannels: number;
  /** Magnitude of the position-0 embedding in those channels. */
  massiveValue: number;
  /** High-gain channels per LayerNorm (ln1, ln2 of every layer). */
  gainChannels: number;
  /** Their gain is drawn from this range. */
  gainRange: [number, number];
  /** Hot fc1 units per layer. */
  hotUnits: number;
  /** Scale of a hot unit's fc1 weight row (and 1/scale of its fc2 column). */
  hotScale: number;
  /** Bias added to a hot unit's pre-activation. */
  hotBias: number;
}

export const CLIP_LIKE_OUTLIERS: OutlierSpec = {
  massiveChannels: 3,
  massiveValue: 100,
  gainChannels: 4,
  gainRange: [10, 20],
  hotUnits: 4,
  hotScale: 8,
  hotBias: 4,
};

/** Tiny text dims with the real vocabulary (so the real tokenizer applies). */
export const TINY_OUTLIER_TEXT: SyntheticTextDims = {
  ...CLIP_L14_TEXT,
  hiddenSize: 64,
  intermediateSize: 256,
  numLayers: 2,
  numHeads: 4,
};

/** Where the outliers were put (for tests and reports). */
export interface OutlierLayout {
  massiveChannels: number[];
  /** Per layer: high-gain channels of layer_norm1 and layer_norm2. */
  gainChannels: { ln1: number[]; ln2: number[] }[];
  /** Per layer: hot fc1 units. */
  hotUnits: number[][];
}

export interface OutlierOptions extends Omit<SyntheticOptions, "vision"> {
  text: SyntheticTextDims;
  outliers?: Partial<OutlierSpec>;
}

/** `count` distinct indices in [0, n) from a deterministic LCG. */
function pick(n: number, count: number, state: { s: number }): number[] {
  const out: number[] = [];
  while (out.length < Math.min(count, n)) {
    state.s = (Math.imul(state.s, 1103515245) + 12345) >>> 0;
    const i = state.s % n;
    if (!out.includes(i)) out.push(i);
  }
  return out;
}

function rand01(state: { s: number }): number {
  state.s = (Math.imul(state.s, 1103515245) + 12345) >>> 0;
  return state.s / 2 ** 32;
}

export function createOutlierCheckpoint(
  options: OutlierOptions,
): SyntheticCheckpoint & { outliers: OutlierLayout } {
  const spec = { ...CLIP_LIKE_OUTLIERS, ...options.outliers };
  const base = createSyntheticCheckpoint({ ...options, dtype: "F32" });
  const t = options.text;
  const w = t.hiddenSize;
  const f32 = (name: string) => base.tensors[name].data as Float32Array;
  const state = { s: (options.seed ?? 1234) ^ 0x5eed };
  const massive = pick(w, spec.massiveChannels, state);
  const pos = f32("text_model.embeddings.position_embedding.weight");
  massive.forEach((c, i) => {
    pos[c] = (i % 2 === 0 ? 1 : -1) * spec.massiveValue;
  });
  const layout: OutlierLayout = { massiveChannels: massive, gainChannels: [], hotUnits: [] };
  const [gLo, gHi] = spec.gainRange;
  for (let l = 0; l < t.numLayers; l++) {
    const p = `text_model.encoder.layers.${l}.`;
    const gains: { ln1: number[]; ln2: number[] } = { ln1: [], ln2: [] };
    for (const [ln, key] of [
      ["layer_norm1", "ln1"],
      ["layer_norm2", "ln2"],
    ] as const) {
      // Outlier channels are not the massive ones: those are already extreme at position 0.
      const chans = pick(w, spec.gainChannels + massive.length, state)
        .filter((c) => !massive.includes(c))
        .slice(0, spec.gainChannels);
      const weight = f32(`${p}${ln}.weight`);
      // The Linears reading these channels have correspondingly small weights there (as trained
      // models do), so the function stays tame while the activations carry the outliers.
      const readers =
        key === "ln1" ? ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"] : ["mlp.fc1"];
      for (const c of chans) {
        const gain = gLo + (gHi - gLo) * rand01(state);
        weight[c] *= gain;
        for (const r of readers) {
          const m = f32(`${p}${r}.weight`);
          for (let o = 0; o < m.length / w; o++) m[o * w + c] /= gain;
        }
      }
      gains[key] = chans;
    }
    layout.gainChannels.push(gains);
    const hot = pick(t.intermediateSize, spec.hotUnits, state);
    const fc1 = f32(`${p}mlp.fc1.weight`);
    const fc1b = f32(`${p}mlp.fc1.bias`);
    const fc2 = f32(`${p}mlp.fc2.weight`);
    for (const u of hot) {
      for (let k = 0; k < w; k++) fc1[u * w + k] *= spec.hotScale;
      fc1b[u] += spec.hotBias;
      for (let n = 0; n < w; n++) fc2[n * t.intermediateSize + u] /= spec.hotScale;
    }
    layout.hotUnits.push(hot);
  }
  if (options.dtype === "F16") {
    for (const tensor of Object.values(base.tensors)) {
      tensor.data = toFloat16Array(tensor.data as Float32Array);
      tensor.dtype = "F16";
    }
    base.config.torch_dtype = "float16";
  }
  base.config.clip_edge_synthetic = {
    kind: "outlier proxy (not trained weights)",
    outliers: spec,
  };
  return { ...base, outliers: layout };
}

/** Writes config.json + model.safetensors of an outlier checkpoint; returns its layout. */
export function writeOutlierCheckpoint(dir: string, options: OutlierOptions): OutlierLayout {
  mkdirSync(dir, { recursive: true });
  const { config, tensors, outliers } = createOutlierCheckpoint(options);
  writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(tensors, { format: "pt" }));
  return outliers;
}
