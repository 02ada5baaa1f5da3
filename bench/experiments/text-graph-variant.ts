import { attr, createGraphBuilder } from "../../tools/onnx/graph-builder.ts";
import { DataType } from "../../tools/onnx/onnx-proto.ts";
import type { TextConfig } from "../../tools/prepare/clip-config.ts";
import { encoderLayer, layerNorm } from "../../tools/prepare/encoder-layer.ts";
import { fp32Linear, type LinearEmitter } from "../../tools/prepare/linear-emitters.ts";
import { type BuiltGraph, MASK_VALUE } from "../../tools/prepare/text-graph.ts";
import { emitTokenEmbedding } from "../../tools/prepare/token-embedding.ts";
import type { TextTowerWeights } from "../../tools/prepare/tower-weights.ts";

/** Where the token-embedding table lives in an experiment graph. */
export type EmbeddingPlacement =
  /** int8 rows + per-row scales in the graph, gathered before dequantising (prepare default). */
  | "int8-gather"
  /** fp32 table in the graph. */
  | "fp32"
  /**
   * Not in the graph: the caller gathers rows (e.g. from an int8 table read
   * by row from R2) and feeds `inputs_embeds` [B, S, W] float32; `input_ids`
   * is still fed (tiny) for the EOT argmax pooling.
   */
  | "outside";

export interface VariantGraphOptions {
  linear: LinearEmitter;
  embedding: EmbeddingPlacement;
  /** hidden_states_1..K outputs (same as the prepare graph), default 3. */
  hiddenStates?: number;
  label: string;
}

/**
 * The prepare text graph (tools/prepare/text-graph.ts) with two knobs opened
 * for lever experiments: the Linear lowering and the token-embedding
 * placement. Same ops otherwise (causal mask sliced to the dynamic seq, EOT
 * argmax pooling, fp32 projection); no attention_mask input.
 */
export function buildTextGraphVariant(
  cfg: TextConfig,
  w: TextTowerWeights,
  options: VariantGraphOptions,
): BuiltGraph {
  const { hiddenSize: width, maxPositions: p } = cfg;
  const k = options.hiddenStates ?? 3;
  const g = createGraphBuilder("clip_text");
  const ids = g.input("input_ids", DataType.INT64, ["batch", "sequence"]);
  const inputs = [ids];
  let tok: string;
  if (options.embedding === "outside") {
    tok = g.input("inputs_embeds", DataType.FLOAT, ["batch", "sequence", width]);
    inputs.push(tok);
  } else {
    const mode = options.embedding === "fp32" ? "fp32" : "int8";
    tok = emitTokenEmbedding(g, ids, w.tokenEmbedding, cfg.vocabSize, width, mode);
  }
  const seq = g.node("Shape", [ids], { start: attr.int(1), end: attr.int(2) }, { name: "seq_len" });
  const posTable = g.initializer(
    "position_embedding",
    DataType.FLOAT,
    [p, width],
    w.positionEmbedding,
  );
  const zero1 = g.constant("int64", [0]);
  const pos = g.node("Slice", [posTable, zero1, seq, zero1], {}, { name: "pos_emb" });
  let h = g.node("Add", [tok, pos], {}, { name: "embeddings" });
  const causalData = new Float32Array(p * p);
  for (let r = 0; r < p; r++) for (let c = r + 1; c < p; c++) causalData[r * p + c] = MASK_VALUE;
  const causalTable = g.initializer("causal_mask", DataType.FLOAT, [p, p], causalData);
  const seq2 = g.node("Concat", [seq, seq], { axis: attr.int(0) }, { name: "seq_seq" });
  const mask = g.node(
    "Slice",
    [causalTable, g.constant("int64", [0, 0]), seq2, g.constant("int64", [0, 1])],
    {},
    { name: "causal" },
  );
  const ctx = {
    g,
    linear: options.linear,
    width,
    heads: cfg.numHeads,
    act: cfg.hiddenAct,
    eps: cfg.layerNormEps,
    mask,
  };
  const L = cfg.numLayers;
  const layerOut: string[] = [h];
  for (let i = 0; i < L; i++) {
    const kIndex = L - i;
    h = encoderLayer(
      ctx,
      h,
      w.layers[i],
      `layer${i}`,
      kIndex <= k ? `hidden_states_${kIndex}` : undefined,
    );
    layerOut.push(h);
  }
  const dims3 = ["batch", "sequence", width];
  const outputs = ["last_hidden_state"];
  const last = layerNorm(g, h, w.finalLn, cfg.layerNormEps, "final_ln", "last_hidden_state");
  g.output(last, DataType.FLOAT, dims3);
  for (let j = 1; j <= k; j++) {
    g.output(`hidden_states_${j}`, DataType.FLOAT, dims3);
    outputs.push(`hidden_states_${j}`);
  }
  for (let j = 2; j <= k; j++) {
    const name = `hidden_states_ln_${j}`;
    layerNorm(g, layerOut[L + 1 - j], w.finalLn, cfg.layerNormEps, `final_ln_${j}`, name);
    g.output(name, DataType.FLOAT, dims3);
    outputs.push(name);
  }
  const ids32 = g.node("Cast", [ids], { to: attr.int(DataType.INT32) }, { name: "ids_i32" });
  const eot = g.node(
    "ArgMax",
    [ids32],
    { axis: attr.int(1), keepdims: attr.int(1), select_last_index: attr.int(0) },
    { name: "eot_index" },
  );
  g.node("GatherND", [last, eot], { batch_dims: attr.int(1) }, { outputs: ["pooled"] });
  g.output("pooled", DataType.FLOAT, ["batch", width]);
  outputs.push("pooled");
  if (w.projection) {
    const y = fp32Linear(g, "pooled", w.projection, "text_projection");
    g.node("Identity", [y], {}, { outputs: ["text_embeds"] });
    g.output("text_embeds", DataType.FLOAT, ["batch", w.projection.outFeatures]);
    outputs.push("text_embeds");
  }
  const model = g.build({
    producerName: "clip-edge-bench",
    producerVersion: "0",
    metadata: { "clip_edge.kind": "text", "clip_edge.variant": options.label },
  });
  return { model, inputs, outputs };
}
