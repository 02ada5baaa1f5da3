import type { HiddenAct, TowerArchitecture } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/** Architecture of one CLIP tower, read from a Hugging Face config.json: the manifest's. */
export interface TextConfig extends TowerArchitecture {
  vocabSize: number;
  maxPositions: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId?: number;
}

export interface VisionConfig extends TowerArchitecture {
  imageSize: number;
  patchSize: number;
  numChannels: number;
}

export interface ClipCheckpointConfig {
  /** "clip" (CLIPConfig), "clip_text_model" or "clip_vision_model". */
  modelType: string;
  architectures: string[];
  text?: TextConfig;
  vision?: VisionConfig;
  projectionDim?: number;
}

type Json = Record<string, unknown>;

function num(obj: Json, key: string, fallback: number, label: string): number {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: "${key}" must be a number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function act(obj: Json, label: string): HiddenAct {
  const value = obj.hidden_act ?? "quick_gelu";
  if (value === "quick_gelu" || value === "gelu") return value;
  throw new ClipEdgeError(
    "unsupported",
    `${label}: hidden_act ${JSON.stringify(value)} is not supported (quick_gelu or gelu)`,
  );
}

function tower(obj: Json, defaults: TowerArchitecture, label: string): TowerArchitecture {
  const cfg: TowerArchitecture = {
    hiddenSize: num(obj, "hidden_size", defaults.hiddenSize, label),
    intermediateSize: num(obj, "intermediate_size", defaults.intermediateSize, label),
    numLayers: num(obj, "num_hidden_layers", defaults.numLayers, label),
    numHeads: num(obj, "num_attention_heads", defaults.numHeads, label),
    hiddenAct: act(obj, label),
    layerNormEps: num(obj, "layer_norm_eps", defaults.layerNormEps, label),
  };
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numHeads}`,
    );
  }
  return cfg;
}

/** transformers' CLIPTextConfig defaults (used for keys a config omits). */
function textConfig(obj: Json, label: string): TextConfig {
  return {
    ...tower(
      obj,
      {
        hiddenSize: 512,
        intermediateSize: 2048,
        numLayers: 12,
        numHeads: 8,
        hiddenAct: "quick_gelu",
        layerNormEps: 1e-5,
      },
      label,
    ),
    vocabSize: num(obj, "vocab_size", 49408, label),
    maxPositions: num(obj, "max_position_embeddings", 77, label),
    bosTokenId: num(obj, "bos_token_id", 49406, label),
    eosTokenId: num(obj, "eos_token_id", 49407, label),
    padTokenId: typeof obj.pad_token_id === "number" ? obj.pad_token_id : undefined,
  };
}

/** transformers' CLIPVisionConfig defaults. */
function visionConfig(obj: Json, label: string): VisionConfig {
  return {
    ...tower(
      obj,
      {
        hiddenSize: 768,
        intermediateSize: 3072,
        numLayers: 12,
        numHeads: 12,
        hiddenAct: "quick_gelu",
        layerNormEps: 1e-5,
      },
      label,
    ),
    imageSize: num(obj, "image_size", 224, label),
    patchSize: num(obj, "patch_size", 32, label),
    numChannels: num(obj, "num_channels", 3, label),
  };
}

/**
 * Parses a CLIPConfig (text_config + vision_config), a bare CLIPTextConfig
 * (SD `text_encoder/`, `text_encoder_2/`) or a CLIPVisionConfig.
 */
export function parseClipConfig(json: unknown, label = "config.json"): ClipCheckpointConfig {
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    throw new ClipEdgeError("invalid_input", `${label}: expected a JSON object`);
  }
  const obj = json as Json;
  const modelType = typeof obj.model_type === "string" ? obj.model_type : "";
  const architectures = Array.isArray(obj.architectures) ? obj.architectures.map(String) : [];
  const projection = typeof obj.projection_dim === "number" ? obj.projection_dim : undefined;
  if (modelType === "clip" || obj.text_config || obj.vision_config) {
    return {
      modelType: "clip",
      architectures,
      text: textConfig((obj.text_config ?? {}) as Json, `${label} text_config`),
      vision: obj.vision_config
        ? visionConfig(obj.vision_config as Json, `${label} vision_config`)
        : undefined,
      projectionDim: projection ?? 512,
    };
  }
  if (modelType === "clip_text_model") {
    return { modelType, architectures, text: textConfig(obj, label), projectionDim: projection };
  }
  if (modelType === "clip_vision_model") {
    return {
      modelType,
      architectures,
      vision: visionConfig(obj, label),
      projectionDim: projection,
    };
  }
  throw new ClipEdgeError(
    "unsupported",
    `${label}: model_type ${JSON.stringify(obj.model_type)} is not a CLIP config (clip, clip_text_model, clip_vision_model)`,
  );
}
