import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import { STAGE_INPUT, STAGE_OUTPUT } from "../../conditioning/encoder/staged-session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { attr, createGraphBuilder } from "../onnx/graph-builder.ts";
import { DataType, type ModelDef } from "../onnx/onnx-proto.ts";
import type { TextConfig } from "./clip-config.ts";
import { encoderLayer, layerNorm } from "./encoder-layer.ts";
import { fp32Linear, type LinearEmitter, linearEmitterFor } from "./linear-emitters.ts";
import { emitTokenEmbedding, type TokenEmbeddingMode } from "./token-embedding.ts";
import type { TextTowerWeights } from "./tower-weights.ts";

/** Additive mask value for masked attention logits (finite, so fully masked rows cannot NaN). */
export const MASK_VALUE = -1e9;

export interface TextGraphOptions {
  quantization: Quantization;
  /** Number of pre-final-LN hidden states exported (hidden_states_1..K), default 3. */
  hiddenStates?: number;
  /** Token-embedding storage (default: fp32 for fp32 graphs, int8 otherwise). */
  tokenEmbedding?: TokenEmbeddingMode;
  /** Add an attention_mask input [batch, seq] (1 = attend, 0 = masked key); default false. */
  attentionMask?: boolean;
  producerVersion?: string;
  /** MatMulNBits accuracy_level for q4 (0 = fp32 compute, 4 = int8 compute). */
  q4AccuracyLevel?: number;
  /**
   * Build only encoder layers [from, to) as one stage of a staged encoder
   * (conditioning/encoder/staged-session.ts): stages after the first take
   * `hidden_in` instead of embedding the ids; a stage with `head` ends in the
   * final LayerNorm, pooling and projection, the others output `hidden_out`.
   * [L, L) with `head` is the head alone. Default: all layers and the head.
   */
  stage?: { from: number; to: number; head?: boolean };
  /** Overrides the Linear lowering chosen by `quantization` (bench lever experiments). */
  linear?: LinearEmitter;
}

export interface BuiltGraph {
  model: ModelDef;
  inputs: string[];
  outputs: string[];
}

/**
 * Layers [from, to) of stage `index` of a staged text graph: `groups` near-equal
 * layer groups, then the head ([layers, layers): final LayerNorm, pooling,
 * projection) as stage `groups`. The head is its own small stage so that no
 * stage carries the projection on top of a layer (loaders create the biggest
 * stages first and the small ones last, when the heap is largest).
 */
export function stageLayers(layers: number, groups: number, index: number) {
  if (index === groups) return { from: layers, to: layers, head: true };
  return {
    from: Math.round((index * layers) / groups),
    to: Math.round(((index + 1) * layers) / groups),
  };
}

/**
 * Layers [from, to) of stage `index` for an explicit plan: `plan[g]` layers in
 * group g (run order; e.g. [6, 3, 2, 1] from stage-planner.ts), then the head
 * as stage `plan.length`. `plan` must sum to `layers`, each entry >= 1.
 */
export function plannedStageLayers(layers: number, plan: readonly number[], index: number) {
  if (index === plan.length) return { from: layers, to: layers, head: true };
  let from = 0;
  for (let g = 0; g < index; g++) from += plan[g];
  return { from, to: from + plan[index] };
}

/** Why an explicit stage plan is invalid for `layers` layers, or undefined when it is valid. */
export function stagePlanError(layers: number, plan: readonly number[]): string | undefined {
  if (plan.length === 0) return "an empty list";
  if (!plan.every((n) => Number.isInteger(n) && n >= 1))
    return "each entry must be an integer >= 1";
  const sum = plan.reduce((a, b) => a + b, 0);
  if (sum !== layers) return `the entries sum to ${sum}, not the ${layers} layers`;
  return undefined;
}

/**
 * CLIP text transformer as an ONNX graph (opset 17): token + position
 * embeddings (positions sliced to the dynamic seq), causal pre-LN blocks,
 * final LayerNorm, argmax pooling on integer ids, optional projection.
 */
export function buildTextGraph(
  cfg: TextConfig,
  w: TextTowerWeights,
  options: TextGraphOptions,
): BuiltGraph {
  const k = options.hiddenStates ?? 3;
  const L = cfg.numLayers;
  if (!Number.isInteger(k) || k < 0 || k > L + 1) {
    throw new ClipEdgeError(
      "invalid_input",
      `hidden states K=${k} must be an integer in 0..${L + 1} (layers + embeddings)`,
    );
  }
  const from = options.stage?.from ?? 0;
  const to = options.stage?.to ?? L;
  const head = options.stage ? options.stage.head === true : true;
  // [L, L) is the head stage: final LayerNorm, pooling and projection only.
  const valid = from === L ? to === L && L > 0 && head : from < to && to <= L;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || !valid) {
    throw new ClipEdgeError(
      "invalid_input",
      `text graph stage layers [${from}, ${to}) must be a non-empty integer range within [0, ${L}), or [${L}, ${L}) for the head`,
    );
  }
  const linear: LinearEmitter =
    options.linear ?? linearEmitterFor(options.quantization, options.q4AccuracyLevel);
  const { hiddenSize: width, maxPositions: p } = cfg;
  const dims3 = ["batch", "sequence", width];
  const g = createGraphBuilder("clip_text");
  const ids = g.input("input_ids", DataType.INT64, ["batch", "sequence"]);
  const inputs = [ids];
  const seq = g.node("Shape", [ids], { start: attr.int(1), end: attr.int(2) }, { name: "seq_len" });
  // Created on first use: a stage after the first without attention_mask has no use for it
  // (an unused initializer makes onnxruntime log a warning per session).
  let zero: string | undefined;
  const zero1 = () => {
    zero ??= g.constant("int64", [0]);
    return zero;
  };

  let h: string;
  if (from === 0) {
    const tokenMode = options.tokenEmbedding ?? (options.quantization === "fp32" ? "fp32" : "int8");
    const tok = emitTokenEmbedding(g, ids, w.tokenEmbedding, cfg.vocabSize, width, tokenMode);
    if (tokenMode === "external-int8") inputs.push(tok);
    const posTable = g.initializer(
      "position_embedding",
      DataType.FLOAT,
      [p, width],
      w.positionEmbedding,
    );
    const pos = g.node("Slice", [posTable, zero1(), seq, zero1()], {}, { name: "pos_emb" });
    h = g.node("Add", [tok, pos], {}, { name: "embeddings" });
  } else {
    h = g.input(STAGE_INPUT, DataType.FLOAT, dims3);
    inputs.push(h);
  }

  const causalData = new Float32Array(p * p);
  for (let r = 0; r < p; r++) for (let c = r + 1; c < p; c++) causalData[r * p + c] = MASK_VALUE;
  const causalTable = g.initializer("causal_mask", DataType.FLOAT, [p, p], causalData);
  const seq2 = g.node("Concat", [seq, seq], { axis: attr.int(0) }, { name: "seq_seq" });
  let mask = g.node(
    "Slice",
    [causalTable, g.constant("int64", [0, 0]), seq2, g.constant("int64", [0, 1])],
    {},
    { name: "causal" },
  );
  if (options.attentionMask ?? false) {
    // Prepare-time option: when emitted the input is required (onnxruntime-web only
    // accepts feeds named in session.inputNames, so an initializer default cannot make it optional).
    const am = g.input("attention_mask", DataType.INT64, ["batch", "sequence"]);
    inputs.push(am);
    const amSeq = g.node(
      "Slice",
      [am, zero1(), seq, g.constant("int64", [1])],
      {},
      { name: "am_seq" },
    );
    const amF = g.node("Cast", [amSeq], { to: attr.int(DataType.FLOAT) }, { name: "am_f" });
    const keyMask = g.node(
      "Mul",
      [g.node("Sub", [g.scalar(1), amF]), g.scalar(MASK_VALUE)],
      {},
      { name: "am_add" },
    );
    const keyMask4 = g.node(
      "Unsqueeze",
      [keyMask, g.constant("int64", [1, 2])],
      {},
      { name: "am_4d" },
    );
    mask = g.node("Add", [mask, keyMask4], {}, { name: "attn_mask" });
  }

  const ctx = {
    g,
    linear,
    width,
    heads: cfg.numHeads,
    act: cfg.hiddenAct,
    eps: cfg.layerNormEps,
    mask,
  };
  // layerOut.get(m): output of layer m - 1 (m = 0: the embeddings), for the layers of this stage.
  const layerOut = new Map<number, string>();
  if (from === 0) layerOut.set(0, h);
  for (let i = from; i < to; i++) {
    const kIndex = L - i; // hidden_states[-kIndex] is the output of layer i (0-based)
    const outName = kIndex <= k ? `hidden_states_${kIndex}` : undefined;
    h = encoderLayer(ctx, h, w.layers[i], `layer${i}`, outName);
    layerOut.set(i + 1, h);
  }
  const isLast = head;
  const outputs: string[] = [];
  let last: string | undefined;
  if (isLast) {
    last = layerNorm(g, h, w.finalLn, cfg.layerNormEps, "final_ln", "last_hidden_state");
    g.output(last, DataType.FLOAT, dims3);
    outputs.push("last_hidden_state");
  } else {
    g.node("Identity", [h], {}, { outputs: [STAGE_OUTPUT] });
    g.output(STAGE_OUTPUT, DataType.FLOAT, dims3);
    outputs.push(STAGE_OUTPUT);
  }
  if (k === L + 1 && from === 0) {
    g.node("Identity", [layerOut.get(0)!], {}, { outputs: [`hidden_states_${L + 1}`] });
  }
  for (let j = 1; j <= k; j++) {
    if (!layerOut.has(L + 1 - j)) continue;
    g.output(`hidden_states_${j}`, DataType.FLOAT, dims3);
    outputs.push(`hidden_states_${j}`);
  }
  for (let j = 1; j <= k; j++) {
    const source = layerOut.get(L + 1 - j);
    // hidden_states_ln_1 is last_hidden_state: it comes with the final LayerNorm.
    if (j === 1 ? !isLast : !source) continue;
    const name = `hidden_states_ln_${j}`;
    if (j === 1) g.node("Identity", [last!], {}, { outputs: [name] });
    else layerNorm(g, source!, w.finalLn, cfg.layerNormEps, `final_ln_${j}`, name);
    g.output(name, DataType.FLOAT, dims3);
    outputs.push(name);
  }

  if (isLast) {
    const ids32 = g.node("Cast", [ids], { to: attr.int(DataType.INT32) }, { name: "ids_i32" });
    const eot = g.node(
      "ArgMax",
      [ids32],
      { axis: attr.int(1), keepdims: attr.int(1), select_last_index: attr.int(0) },
      { name: "eot_index" },
    );
    g.node("GatherND", [last!, eot], { batch_dims: attr.int(1) }, { outputs: ["pooled"] });
    g.output("pooled", DataType.FLOAT, ["batch", width]);
    outputs.push("pooled");
    if (w.projection) {
      // The projection stays fp32 in every variant: it is small (E x W) and feeds the embeddings directly.
      const y = fp32Linear(g, "pooled", w.projection, "text_projection");
      g.node("Identity", [y], {}, { outputs: ["text_embeds"] });
      g.output("text_embeds", DataType.FLOAT, ["batch", w.projection.outFeatures]);
      outputs.push("text_embeds");
    }
  }
  const model = g.build({
    producerName: "clip-edge",
    producerVersion: options.producerVersion ?? "0",
    metadata: {
      "clip_edge.kind": "text",
      "clip_edge.quantization": options.quantization,
      ...(options.stage ? { "clip_edge.stage_layers": `${from}-${to}` } : {}),
    },
  });
  return { model, inputs, outputs };
}
