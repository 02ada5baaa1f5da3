import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import { attr, createGraphBuilder } from "../onnx/graph-builder.ts";
import { DataType } from "../onnx/onnx-proto.ts";
import type { VisionConfig } from "./clip-config.ts";
import { encoderLayer, layerNorm } from "./encoder-layer.ts";
import { fp32Linear, linearEmitterFor } from "./linear-emitters.ts";
import type { BuiltGraph } from "./text-graph.ts";
import type { VisionTowerWeights } from "./tower-weights.ts";

/**
 * CLIP vision transformer (ViT) as an ONNX graph: patch conv (no bias), CLS +
 * position embeddings, pre_layrnorm, pre-LN blocks (no mask), post_layernorm
 * of the CLS token (`vision_pooled`), projection (`image_embeds`).
 */
export function buildVisionGraph(
  cfg: VisionConfig,
  w: VisionTowerWeights,
  options: { quantization: Quantization; producerVersion?: string; q4AccuracyLevel?: number },
): BuiltGraph {
  const { hiddenSize: width, patchSize: ps, imageSize: size, numChannels: c } = cfg;
  const g = createGraphBuilder("clip_vision");
  const pixels = g.input("pixel_values", DataType.FLOAT, ["batch", c, size, size]);
  const convW = g.initializer(
    "patch_embedding",
    DataType.FLOAT,
    [width, c, ps, ps],
    w.patchEmbedding,
  );
  const conv = g.node(
    "Conv",
    [pixels, convW],
    { kernel_shape: attr.ints([ps, ps]), strides: attr.ints([ps, ps]) },
    { name: "patches" },
  );
  const flat = g.node(
    "Reshape",
    [conv, g.constant("int64", [0, 0, -1])],
    {},
    { name: "patches_flat" },
  );
  const tokens = g.node(
    "Transpose",
    [flat],
    { perm: attr.ints([0, 2, 1]) },
    { name: "patch_tokens" },
  );
  const cls = g.initializer("class_embedding", DataType.FLOAT, [1, 1, width], w.classEmbedding);
  const batch = g.node(
    "Shape",
    [pixels],
    { start: attr.int(0), end: attr.int(1) },
    { name: "batch" },
  );
  const clsShape = g.node(
    "Concat",
    [batch, g.constant("int64", [1, width])],
    { axis: attr.int(0) },
    { name: "cls_shape" },
  );
  const clsB = g.node("Expand", [cls, clsShape], {}, { name: "cls_tokens" });
  const seq = g.node("Concat", [clsB, tokens], { axis: attr.int(1) }, { name: "vision_tokens" });
  const positions = (size / ps) ** 2 + 1;
  const pos = g.initializer(
    "vision_position_embedding",
    DataType.FLOAT,
    [positions, width],
    w.positionEmbedding,
  );
  let h = g.node("Add", [seq, pos], {}, { name: "vision_embeddings" });
  h = layerNorm(g, h, w.preLn, cfg.layerNormEps, "pre_layrnorm");
  const ctx = {
    g,
    linear: linearEmitterFor(options.quantization, options.q4AccuracyLevel),
    width,
    heads: cfg.numHeads,
    act: cfg.hiddenAct,
    eps: cfg.layerNormEps,
  };
  for (let i = 0; i < cfg.numLayers; i++) h = encoderLayer(ctx, h, w.layers[i], `vlayer${i}`);
  const clsOut = g.node(
    "Gather",
    [h, g.constant("int64", [0], [])],
    { axis: attr.int(1) },
    { name: "cls_out" },
  );
  layerNorm(g, clsOut, w.postLn, cfg.layerNormEps, "post_layernorm", "vision_pooled");
  g.output("vision_pooled", DataType.FLOAT, ["batch", width]);
  const outputs = ["vision_pooled"];
  if (w.projection) {
    const y = fp32Linear(g, "vision_pooled", w.projection, "visual_projection");
    g.node("Identity", [y], {}, { outputs: ["image_embeds"] });
    g.output("image_embeds", DataType.FLOAT, ["batch", w.projection.outFeatures]);
    outputs.push("image_embeds");
  }
  const model = g.build({
    producerName: "clip-edge",
    producerVersion: options.producerVersion ?? "0",
    metadata: { "clip_edge.kind": "vision", "clip_edge.quantization": options.quantization },
  });
  return { model, inputs: ["pixel_values"], outputs };
}
