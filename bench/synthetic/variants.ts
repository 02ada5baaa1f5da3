import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import type { ModelDef } from "../../node/onnx/onnx-proto.ts";
import { buildTextGraph, stageLayers } from "../../node/prepare/text-graph.ts";
import type { TextTowerWeights, VisionTowerWeights } from "../../node/prepare/tower-weights.ts";
import { buildVisionGraph } from "../../node/prepare/vision-graph.ts";
import { type LinearKind, linearFor, mixedLinear } from "../experiments/linear-variants.ts";
import type { ModelSpec } from "./model-specs.ts";

/**
 * A prepared form of a bench model. The three production variants are built
 * by the prepare step's own graph builders (node/prepare); the others are
 * lever experiments (bench/experiments).
 */
export interface VariantSpec {
  id: string;
  /** Quantisation family for the report (its fp32 reference is variant "fp32"). */
  quantization: Quantization;
  /** Move initializers >= 1 KiB to `<file>.data` (ONNX external data). */
  externalData?: boolean;
  /** Token embeddings are fed as `token_embeds` (table stored beside the graph, read by row). */
  embeddingsOutside?: boolean;
  /** Text graph split into this many layer groups + a head stage (prepare --stages), loaded one at a time. */
  stages?: number;
  experiment?: string;
}

export const PRODUCTION_VARIANTS: VariantSpec[] = [
  { id: "fp32", quantization: "fp32" },
  { id: "int8", quantization: "int8" },
  { id: "q4", quantization: "q4" },
];

export const EXPERIMENT_VARIANTS: VariantSpec[] = [
  { id: "q4-ext", quantization: "q4", externalData: true, experiment: "external data" },
  { id: "int8-ext", quantization: "int8", externalData: true, experiment: "external data" },
  {
    id: "q4-embeds-ext",
    quantization: "q4",
    externalData: true,
    embeddingsOutside: true,
    experiment: "token table outside the graph (int8 rows read by row) + external data",
  },
  {
    id: "int8-embeds-ext",
    quantization: "int8",
    externalData: true,
    embeddingsOutside: true,
    experiment: "int8 layers, token table outside the graph + external data",
  },
  {
    id: "mixed-embeds-ext",
    quantization: "q4",
    externalData: true,
    embeddingsOutside: true,
    experiment: "4-bit MLP + int8 attention, token table outside + external data",
  },
  {
    id: "int8-staged",
    quantization: "int8",
    externalData: true,
    embeddingsOutside: true,
    stages: 12,
    experiment: "int8 layers, one stage per layer + table outside + external data (prepare --edge)",
  },
  {
    id: "mixed-staged",
    quantization: "q4",
    externalData: true,
    embeddingsOutside: true,
    stages: 12,
    experiment: "4-bit MLP + int8 attention, one stage per layer + table outside + external data",
  },
  {
    id: "q4-staged",
    quantization: "q4",
    externalData: true,
    embeddingsOutside: true,
    stages: 12,
    experiment: "q4 layers, one stage per layer + table outside + external data",
  },
  {
    id: "int8-tensor",
    quantization: "int8",
    experiment: "per-tensor int8 activations (pre-#11 DynamicQuantizeLinear; batch-dependent)",
  },
  {
    id: "int8-tensor-staged",
    quantization: "int8",
    externalData: true,
    embeddingsOutside: true,
    stages: 12,
    experiment:
      "per-tensor int8 (pre-#11), as prepare --edge: the baseline of per-token int8-staged",
  },
  { id: "q4-acc4", quantization: "q4", experiment: "MatMulNBits accuracy_level 4" },
  { id: "int8-dq", quantization: "int8", experiment: "DequantizeLinear -> fp32 MatMul" },
  { id: "mixed-q4mlp", quantization: "q4", experiment: "4-bit MLP, int8 attention" },
];

export const ALL_VARIANTS = [...PRODUCTION_VARIANTS, ...EXPERIMENT_VARIANTS];

export function variantSpec(id: string): VariantSpec {
  const v = ALL_VARIANTS.find((x) => x.id === id);
  if (!v) throw new Error(`unknown variant ${id} (known: ${ALL_VARIANTS.map((x) => x.id)})`);
  return v;
}

const LINEAR_OF: Record<string, { attn: LinearKind; mlp: LinearKind }> = {
  "q4-acc4": { attn: "q4-acc4", mlp: "q4-acc4" },
  "int8-dq": { attn: "int8-dq", mlp: "int8-dq" },
  "mixed-q4mlp": { attn: "int8", mlp: "q4" },
  "q4-embeds-ext": { attn: "q4", mlp: "q4" },
  "int8-embeds-ext": { attn: "int8", mlp: "int8" },
  "mixed-embeds-ext": { attn: "int8", mlp: "q4" },
  "int8-staged": { attn: "int8", mlp: "int8" },
  "int8-tensor": { attn: "int8-tensor", mlp: "int8-tensor" },
  "int8-tensor-staged": { attn: "int8-tensor", mlp: "int8-tensor" },
  "mixed-staged": { attn: "int8", mlp: "q4" },
  "q4-staged": { attn: "q4", mlp: "q4" },
};

/**
 * The prepare step's own text graph builder (node/prepare/text-graph.ts) with
 * the lever knobs: the Linear lowering, the token table outside the graph
 * (`token_embeds` input, as `prepare --token-embedding external-int8`) and the
 * stage (`stage` of `variant.stages`, as `prepare --stages`).
 */
export function buildVariantGraph(
  spec: ModelSpec,
  weights: TextTowerWeights | VisionTowerWeights,
  variant: VariantSpec,
  stage?: number,
): ModelDef {
  if (spec.kind === "vision") {
    return buildVisionGraph(spec.config, weights as VisionTowerWeights, {
      quantization: variant.quantization,
    }).model;
  }
  const custom = LINEAR_OF[variant.id];
  const linear = custom
    ? custom.attn === custom.mlp
      ? linearFor(custom.attn)
      : mixedLinear(custom.attn, custom.mlp)
    : undefined;
  return buildTextGraph(spec.config, weights as TextTowerWeights, {
    quantization: variant.quantization,
    ...(linear ? { linear } : {}),
    ...(variant.embeddingsOutside ? { tokenEmbedding: "external-int8" as const } : {}),
    ...(variant.stages && stage !== undefined
      ? { stage: stageLayers(spec.config.numLayers, variant.stages, stage) }
      : {}),
    producerVersion: `bench-${variant.id}`,
  }).model;
}
