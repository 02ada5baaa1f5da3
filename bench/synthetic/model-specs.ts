import type { TextConfig, VisionConfig } from "../../node/prepare/clip-config.ts";

/** Real CLIP dimensions for the synthetic (random-weight) benchmark models. */
export type BenchModelId =
  | "clip-vit-l14-text"
  | "clip-vit-b32-text"
  | "clip-vit-b32-vision"
  | "clip-tiny-text";

export interface TextModelSpec {
  id: BenchModelId;
  kind: "text";
  config: TextConfig;
  projectionDim: number;
}

export interface VisionModelSpec {
  id: BenchModelId;
  kind: "vision";
  config: VisionConfig;
  projectionDim: number;
}

export type ModelSpec = TextModelSpec | VisionModelSpec;

const textBase = {
  vocabSize: 49408,
  maxPositions: 77,
  bosTokenId: 49406,
  eosTokenId: 49407,
  hiddenAct: "quick_gelu" as const,
  layerNormEps: 1e-5,
  numLayers: 12,
};

export const MODEL_SPECS: Record<BenchModelId, ModelSpec> = {
  // SD 1.x text encoder (openai/clip-vit-large-patch14 text tower).
  "clip-vit-l14-text": {
    id: "clip-vit-l14-text",
    kind: "text",
    config: { ...textBase, hiddenSize: 768, intermediateSize: 3072, numHeads: 12 },
    projectionDim: 768,
  },
  "clip-vit-b32-text": {
    id: "clip-vit-b32-text",
    kind: "text",
    config: { ...textBase, hiddenSize: 512, intermediateSize: 2048, numHeads: 8 },
    projectionDim: 512,
  },
  // Not a real model: CLIP vocabulary, tiny width, for the bench's smoke test.
  "clip-tiny-text": {
    id: "clip-tiny-text",
    kind: "text",
    config: { ...textBase, hiddenSize: 64, intermediateSize: 256, numHeads: 4, numLayers: 4 },
    projectionDim: 32,
  },
  "clip-vit-b32-vision": {
    id: "clip-vit-b32-vision",
    kind: "vision",
    config: {
      hiddenSize: 768,
      intermediateSize: 3072,
      numLayers: 12,
      numHeads: 12,
      hiddenAct: "quick_gelu",
      layerNormEps: 1e-5,
      imageSize: 224,
      patchSize: 32,
      numChannels: 3,
    },
    projectionDim: 512,
  },
};

export function modelSpec(id: string): ModelSpec {
  const spec = MODEL_SPECS[id as BenchModelId];
  if (!spec) {
    throw new Error(`unknown bench model ${id} (known: ${Object.keys(MODEL_SPECS).join(", ")})`);
  }
  return spec;
}
