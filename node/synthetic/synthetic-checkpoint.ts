import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toFloat16Array } from "../../conditioning/formats/float16.ts";
import {
  serializeSafetensors,
  type TensorToWrite,
} from "../../conditioning/formats/safetensors.ts";

/**
 * Synthetic CLIP checkpoints generated in code (transformers CLIPModel names,
 * HF config.json), for exercising `prepare` at real model sizes without real
 * weights. Values are deterministic pseudo-random with CLIP-like scales.
 */
export interface SyntheticTextDims {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  maxPositions: number;
  hiddenAct: "quick_gelu" | "gelu";
}

export interface SyntheticVisionDims {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  imageSize: number;
  patchSize: number;
  hiddenAct: "quick_gelu" | "gelu";
}

export interface SyntheticOptions {
  text?: SyntheticTextDims;
  vision?: SyntheticVisionDims;
  projectionDim: number;
  seed?: number;
  dtype?: "F32" | "F16";
}

/** openai/clip-vit-large-patch14 text tower (SD 1.x text encoder). */
export const CLIP_L14_TEXT: SyntheticTextDims = {
  vocabSize: 49408,
  hiddenSize: 768,
  intermediateSize: 3072,
  numLayers: 12,
  numHeads: 12,
  maxPositions: 77,
  hiddenAct: "quick_gelu",
};

/** openai/clip-vit-base-patch32 text and vision towers. */
export const CLIP_B32_TEXT: SyntheticTextDims = {
  ...CLIP_L14_TEXT,
  hiddenSize: 512,
  intermediateSize: 2048,
  numHeads: 8,
};
export const CLIP_B32_VISION: SyntheticVisionDims = {
  hiddenSize: 768,
  intermediateSize: 3072,
  numLayers: 12,
  numHeads: 12,
  imageSize: 224,
  patchSize: 32,
  hiddenAct: "quick_gelu",
};

/** Deterministic uniform noise with a given standard deviation (xorshift32). */
function createNoise(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number, std: number, mean = 0): Float32Array => {
    const out = new Float32Array(n);
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = mean + ((s >>> 0) / 4294967296 - 0.5) * 2 * a;
    }
    return out;
  };
}

export interface SyntheticCheckpoint {
  config: Record<string, unknown>;
  tensors: Record<string, TensorToWrite>;
}

export function createSyntheticCheckpoint(options: SyntheticOptions): SyntheticCheckpoint {
  const noise = createNoise(options.seed ?? 1234);
  const tensors: Record<string, TensorToWrite> = {};
  const put = (name: string, shape: number[], data: Float32Array) => {
    tensors[name] =
      options.dtype === "F16"
        ? { dtype: "F16", shape, data: toFloat16Array(data) }
        : { dtype: "F32", shape, data };
  };
  const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const layers = (prefix: string, w: number, inter: number, n: number) => {
    for (let i = 0; i < n; i++) {
      const p = `${prefix}.encoder.layers.${i}.`;
      for (const ln of ["layer_norm1", "layer_norm2"]) {
        put(`${p}${ln}.weight`, [w], noise(w, 0.1, 1));
        put(`${p}${ln}.bias`, [w], noise(w, 0.05));
      }
      for (const proj of ["q_proj", "k_proj", "v_proj", "out_proj"]) {
        put(`${p}self_attn.${proj}.weight`, [w, w], noise(w * w, w ** -0.5));
        put(`${p}self_attn.${proj}.bias`, [w], noise(w, 0.02));
      }
      put(`${p}mlp.fc1.weight`, [inter, w], noise(inter * w, w ** -0.5));
      put(`${p}mlp.fc1.bias`, [inter], noise(inter, 0.02));
      put(`${p}mlp.fc2.weight`, [w, inter], noise(inter * w, inter ** -0.5));
      put(`${p}mlp.fc2.bias`, [w], noise(w, 0.02));
    }
  };
  const config: Record<string, unknown> = {
    architectures: ["CLIPModel"],
    model_type: "clip",
    projection_dim: options.projectionDim,
    torch_dtype: options.dtype === "F16" ? "float16" : "float32",
  };
  const e = options.projectionDim;
  if (options.text) {
    const t = options.text;
    const w = t.hiddenSize;
    put(
      "text_model.embeddings.token_embedding.weight",
      [t.vocabSize, w],
      noise(t.vocabSize * w, 0.02),
    );
    put(
      "text_model.embeddings.position_embedding.weight",
      [t.maxPositions, w],
      noise(t.maxPositions * w, 0.01),
    );
    layers("text_model", w, t.intermediateSize, t.numLayers);
    put("text_model.final_layer_norm.weight", [w], noise(w, 0.1, 1));
    put("text_model.final_layer_norm.bias", [w], noise(w, 0.05));
    put("text_projection.weight", [e, w], noise(e * w, w ** -0.5));
    config.text_config = {
      model_type: "clip_text_model",
      vocab_size: t.vocabSize,
      hidden_size: w,
      intermediate_size: t.intermediateSize,
      num_hidden_layers: t.numLayers,
      num_attention_heads: t.numHeads,
      max_position_embeddings: t.maxPositions,
      hidden_act: t.hiddenAct,
      layer_norm_eps: 1e-5,
      projection_dim: e,
      bos_token_id: 49406,
      eos_token_id: 49407,
      pad_token_id: 49407,
    };
  }
  if (options.vision) {
    const v = options.vision;
    const w = v.hiddenSize;
    const positions = (v.imageSize / v.patchSize) ** 2 + 1;
    put("vision_model.embeddings.class_embedding", [w], noise(w, w ** -0.5));
    const patch = [w, 3, v.patchSize, v.patchSize];
    put("vision_model.embeddings.patch_embedding.weight", patch, noise(count(patch), 0.02));
    put(
      "vision_model.embeddings.position_embedding.weight",
      [positions, w],
      noise(positions * w, w ** -0.5),
    );
    put("vision_model.pre_layrnorm.weight", [w], noise(w, 0.1, 1));
    put("vision_model.pre_layrnorm.bias", [w], noise(w, 0.05));
    layers("vision_model", w, v.intermediateSize, v.numLayers);
    put("vision_model.post_layernorm.weight", [w], noise(w, 0.1, 1));
    put("vision_model.post_layernorm.bias", [w], noise(w, 0.05));
    put("visual_projection.weight", [e, w], noise(e * w, w ** -0.5));
    config.vision_config = {
      model_type: "clip_vision_model",
      hidden_size: w,
      intermediate_size: v.intermediateSize,
      num_hidden_layers: v.numLayers,
      num_attention_heads: v.numHeads,
      num_channels: 3,
      image_size: v.imageSize,
      patch_size: v.patchSize,
      hidden_act: v.hiddenAct,
      layer_norm_eps: 1e-5,
      projection_dim: e,
    };
  }
  put("logit_scale", [], Float32Array.of(Math.log(100)));
  return { config, tensors };
}

/** Writes config.json + model.safetensors of a synthetic checkpoint; returns the folder. */
export function writeSyntheticCheckpoint(dir: string, options: SyntheticOptions): string {
  mkdirSync(dir, { recursive: true });
  const { config, tensors } = createSyntheticCheckpoint(options);
  writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(tensors, { format: "pt" }));
  return dir;
}
