import { ClipEdgeError } from "../../conditioning/errors.ts";
import { type SafetensorsEntry, tensorToFloat32 } from "../../conditioning/formats/safetensors.ts";
import type { TextConfig, VisionConfig } from "./clip-config.ts";

/** torch Linear: weight [out, in], y = x @ weight^T + bias. */
export interface LinearParams {
  weight: Float32Array;
  bias?: Float32Array;
  outFeatures: number;
  inFeatures: number;
}

export interface LayerNormParams {
  weight: Float32Array;
  bias: Float32Array;
}

export interface EncoderLayerParams {
  ln1: LayerNormParams;
  q: LinearParams;
  k: LinearParams;
  v: LinearParams;
  out: LinearParams;
  ln2: LayerNormParams;
  fc1: LinearParams;
  fc2: LinearParams;
}

export interface TextTowerWeights {
  tokenEmbedding: Float32Array; // [V, W]
  positionEmbedding: Float32Array; // [P, W]
  layers: EncoderLayerParams[];
  finalLn: LayerNormParams;
  /** text_projection.weight [E, W] (torch Linear, no bias), when present. */
  projection?: LinearParams;
}

export interface VisionTowerWeights {
  classEmbedding: Float32Array; // [Wv]
  patchEmbedding: Float32Array; // [Wv, C, P, P]
  positionEmbedding: Float32Array; // [N+1, Wv]
  preLn: LayerNormParams;
  layers: EncoderLayerParams[];
  postLn: LayerNormParams;
  projection?: LinearParams;
}

/** Checkpoint naming conventions this loader understands. */
export type NamingStyle = "hf" | "openai";

export function detectNamingStyle(tensors: Map<string, SafetensorsEntry>): NamingStyle {
  for (const name of tensors.keys()) {
    const n = stripPrefix(name);
    if (n.startsWith("text_model.") || n.startsWith("vision_model.")) return "hf";
  }
  for (const name of tensors.keys()) {
    const n = stripPrefix(name);
    if (
      n === "positional_embedding" ||
      n.startsWith("transformer.resblocks.") ||
      n.startsWith("visual.")
    ) {
      return "openai";
    }
  }
  const sample = [...tensors.keys()].slice(0, 5).join(", ");
  throw new ClipEdgeError(
    "unsupported",
    `checkpoint tensor names are neither transformers CLIP (text_model.*, vision_model.*) nor OpenAI/OpenCLIP (transformer.resblocks.*, visual.*); first names: ${sample}`,
  );
}

function stripPrefix(name: string): string {
  return name.replace(/^(module\.|model\.)/, "");
}

/** Name-normalised, shape-checked float32 access to a checkpoint's tensors. */
class TensorReader {
  private readonly byName = new Map<string, { entry: SafetensorsEntry; original: string }>();
  constructor(tensors: Map<string, SafetensorsEntry>) {
    for (const [name, entry] of tensors)
      this.byName.set(stripPrefix(name), { entry, original: name });
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string, shape: readonly number[]): Float32Array {
    const found = this.byName.get(name);
    if (!found) throw new ClipEdgeError("invalid_input", `checkpoint: tensor ${name} is missing`);
    const actual = found.entry.shape;
    const same = actual.length === shape.length && actual.every((d, i) => d === shape[i]);
    // A 0-d scalar and [1] are the same thing.
    const scalarOk = shape.length === 0 && actual.length === 1 && actual[0] === 1;
    if (!same && !scalarOk) {
      throw new ClipEdgeError(
        "invalid_input",
        `checkpoint: tensor ${found.original} has shape [${actual}], config expects [${shape}]`,
      );
    }
    return tensorToFloat32(found.entry, found.original);
  }
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A torch Linear stored as `<name>.weight` [out, inp] and `<name>.bias` [out]. */
function readLinear(r: TensorReader, name: string, out: number, inp: number): LinearParams {
  return {
    weight: r.get(`${name}.weight`, [out, inp]),
    bias: r.get(`${name}.bias`, [out]),
    outFeatures: out,
    inFeatures: inp,
  };
}

function readLayerNorm(r: TensorReader, name: string, width: number): LayerNormParams {
  return { weight: r.get(`${name}.weight`, [width]), bias: r.get(`${name}.bias`, [width]) };
}

function hfLayer(r: TensorReader, prefix: string, w: number, inter: number): EncoderLayerParams {
  const lin = (name: string, out: number, inp: number) => readLinear(r, prefix + name, out, inp);
  const ln = (name: string) => readLayerNorm(r, prefix + name, w);
  return {
    ln1: ln("layer_norm1"),
    q: lin("self_attn.q_proj", w, w),
    k: lin("self_attn.k_proj", w, w),
    v: lin("self_attn.v_proj", w, w),
    out: lin("self_attn.out_proj", w, w),
    ln2: ln("layer_norm2"),
    fc1: lin("mlp.fc1", inter, w),
    fc2: lin("mlp.fc2", w, inter),
  };
}

function openaiLayer(
  r: TensorReader,
  prefix: string,
  w: number,
  inter: number,
): EncoderLayerParams {
  const inProj = r.get(`${prefix}attn.in_proj_weight`, [3 * w, w]);
  const inBias = r.get(`${prefix}attn.in_proj_bias`, [3 * w]);
  const split = (i: number): LinearParams => ({
    weight: inProj.subarray(i * w * w, (i + 1) * w * w),
    bias: inBias.subarray(i * w, (i + 1) * w),
    outFeatures: w,
    inFeatures: w,
  });
  const lin = (name: string, out: number, inp: number) => readLinear(r, prefix + name, out, inp);
  const ln = (name: string) => readLayerNorm(r, prefix + name, w);
  return {
    ln1: ln("ln_1"),
    q: split(0),
    k: split(1),
    v: split(2),
    out: lin("attn.out_proj", w, w),
    ln2: ln("ln_2"),
    fc1: lin("mlp.c_fc", inter, w),
    fc2: lin("mlp.c_proj", w, inter),
  };
}

export function loadTextWeights(
  tensors: Map<string, SafetensorsEntry>,
  cfg: TextConfig,
  projectionDim: number | undefined,
): TextTowerWeights {
  const r = new TensorReader(tensors);
  const style = detectNamingStyle(tensors);
  const { hiddenSize: w, intermediateSize: inter, vocabSize: v, maxPositions: p } = cfg;
  const layers: EncoderLayerParams[] = [];
  if (style === "hf") {
    for (let i = 0; i < cfg.numLayers; i++)
      layers.push(hfLayer(r, `text_model.encoder.layers.${i}.`, w, inter));
    const projection =
      r.has("text_projection.weight") && projectionDim !== undefined
        ? {
            weight: r.get("text_projection.weight", [projectionDim, w]),
            outFeatures: projectionDim,
            inFeatures: w,
          }
        : undefined;
    return {
      tokenEmbedding: r.get("text_model.embeddings.token_embedding.weight", [v, w]),
      positionEmbedding: r.get("text_model.embeddings.position_embedding.weight", [p, w]),
      layers,
      finalLn: {
        weight: r.get("text_model.final_layer_norm.weight", [w]),
        bias: r.get("text_model.final_layer_norm.bias", [w]),
      },
      projection,
    };
  }
  for (let i = 0; i < cfg.numLayers; i++)
    layers.push(openaiLayer(r, `transformer.resblocks.${i}.`, w, inter));
  let projection: LinearParams | undefined;
  if (r.has("text_projection") && projectionDim !== undefined) {
    // OpenAI stores [W, E] used as x @ P; torch Linear wants [E, W].
    projection = {
      weight: transpose(r.get("text_projection", [w, projectionDim]), w, projectionDim),
      outFeatures: projectionDim,
      inFeatures: w,
    };
  }
  return {
    tokenEmbedding: r.get("token_embedding.weight", [v, w]),
    positionEmbedding: r.get("positional_embedding", [p, w]),
    layers,
    finalLn: { weight: r.get("ln_final.weight", [w]), bias: r.get("ln_final.bias", [w]) },
    projection,
  };
}

export function loadVisionWeights(
  tensors: Map<string, SafetensorsEntry>,
  cfg: VisionConfig,
  projectionDim: number | undefined,
): VisionTowerWeights {
  const r = new TensorReader(tensors);
  const style = detectNamingStyle(tensors);
  const { hiddenSize: w, intermediateSize: inter, patchSize: ps, numChannels: c } = cfg;
  const positions = (cfg.imageSize / ps) ** 2 + 1;
  const layers: EncoderLayerParams[] = [];
  const ln = (name: string): LayerNormParams => ({
    weight: r.get(`${name}.weight`, [w]),
    bias: r.get(`${name}.bias`, [w]),
  });
  if (style === "hf") {
    for (let i = 0; i < cfg.numLayers; i++)
      layers.push(hfLayer(r, `vision_model.encoder.layers.${i}.`, w, inter));
    return {
      classEmbedding: r.get("vision_model.embeddings.class_embedding", [w]),
      patchEmbedding: r.get("vision_model.embeddings.patch_embedding.weight", [w, c, ps, ps]),
      positionEmbedding: r.get("vision_model.embeddings.position_embedding.weight", [positions, w]),
      preLn: ln("vision_model.pre_layrnorm"),
      layers,
      postLn: ln("vision_model.post_layernorm"),
      projection:
        r.has("visual_projection.weight") && projectionDim !== undefined
          ? {
              weight: r.get("visual_projection.weight", [projectionDim, w]),
              outFeatures: projectionDim,
              inFeatures: w,
            }
          : undefined,
    };
  }
  for (let i = 0; i < cfg.numLayers; i++)
    layers.push(openaiLayer(r, `visual.transformer.resblocks.${i}.`, w, inter));
  return {
    classEmbedding: r.get("visual.class_embedding", [w]),
    patchEmbedding: r.get("visual.conv1.weight", [w, c, ps, ps]),
    positionEmbedding: r.get("visual.positional_embedding", [positions, w]),
    preLn: ln("visual.ln_pre"),
    layers,
    postLn: ln("visual.ln_post"),
    projection:
      r.has("visual.proj") && projectionDim !== undefined
        ? {
            weight: transpose(r.get("visual.proj", [w, projectionDim]), w, projectionDim),
            outFeatures: projectionDim,
            inFeatures: w,
          }
        : undefined,
  };
}

/** logit_scale (ln of the CLIP temperature) when the checkpoint has it. */
export function readLogitScale(tensors: Map<string, SafetensorsEntry>): number | undefined {
  const r = new TensorReader(tensors);
  return r.has("logit_scale") ? r.get("logit_scale", [])[0] : undefined;
}
