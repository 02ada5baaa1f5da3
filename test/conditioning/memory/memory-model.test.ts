import { describe, expect, it } from "vitest";
import type { GraphEntry, TextArchitecture } from "../../../conditioning/bundle/manifest.ts";
import {
  DEFAULT_RUNTIME_BYTES,
  estimateTokenBytes,
  graphMemoryCost,
  runBytes,
  TOKEN_BYTES_MARGIN,
} from "../../../conditioning/memory/memory-model.ts";

const L14: TextArchitecture = {
  hiddenSize: 768,
  intermediateSize: 3072,
  numLayers: 12,
  numHeads: 12,
  hiddenAct: "quick_gelu",
  layerNormEps: 1e-5,
  vocabSize: 49408,
  maxPositions: 77,
  exportedHiddenStates: 3,
};

const entry = (bytes: number, memory?: GraphEntry["memory"]): GraphEntry => ({
  kind: "text",
  file: "text.onnx",
  bytes,
  sha256: "0".repeat(64),
  quantization: "int8",
  inputs: ["input_ids"],
  outputs: ["last_hidden_state"],
  ...(memory ? { memory } : {}),
});

const profile = (tokenBytes: number, loadBytes = 90e6) => ({
  runtime: "onnxruntime-web 1.30.0",
  runtimeBytes: 16_777_216,
  loadBytes,
  tokenBytes,
  probes: [{ rows: 32, tokens: 77, heapBytes: 195e6 }],
});

describe("graph memory cost", () => {
  it("estimates from the dims when the manifest has no profile", () => {
    const cost = graphMemoryCost(entry(85e6), L14);
    expect(cost.source).toBe("estimated");
    expect(cost.runtimeBytes).toBe(DEFAULT_RUNTIME_BYTES);
    expect(cost.loadBytes).toBeGreaterThan(85e6 * 1.1);
    expect(cost.tokenBytes).toBe(4 * (7 * 768 + 2 * 3072 + 12 * 77));
  });

  it("uses the measured profile, with a margin on the per-token cost", () => {
    const cost = graphMemoryCost(entry(85e6, profile(36_000)), L14);
    expect(cost.source).toBe("measured");
    expect(cost.loadBytes).toBe(90e6);
    expect(cost.tokenBytes).toBe(Math.ceil(36_000 * (1 + TOKEN_BYTES_MARGIN)));
    expect(runBytes(cost, 2, 77)).toBe(2 * 77 * cost.tokenBytes);
  });

  it("never counts less than the graph's own bytes, nor a per-token cost hidden in slack", () => {
    const cost = graphMemoryCost(entry(85e6, profile(10, 0)), L14);
    expect(cost.loadBytes).toBe(85e6);
    expect(cost.tokenBytes).toBe(Math.ceil(estimateTokenBytes(L14) / 4));
  });

  it("falls back to the estimate for a malformed profile", () => {
    for (const bad of [
      profile(Number.NaN),
      profile(-1),
      profile(0),
      profile(5, Number.POSITIVE_INFINITY),
    ]) {
      expect(graphMemoryCost(entry(1e6, bad), L14).source).toBe("estimated");
    }
  });
});
