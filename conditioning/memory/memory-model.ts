/**
 * What a text graph costs onnxruntime-web's WASM heap: a fixed part while it is
 * loaded, and a part per token position while it runs (rows x padded sequence
 * length). `prepare` measures both (node/prepare/memory-profile.ts) and writes
 * them into the manifest (`graphs[].memory`); bundles without the measurement
 * get an estimate from the architecture, deliberately on the high side.
 *
 * The worker's memory budget (worker/inference/memory-budget.ts) adds these up:
 *   runtime + sum(loaded graphs' loadBytes) + sum(running rows x tokens x tokenBytes)
 * and sizes micro-batches and model loads so the sum stays within MEMORY_BUDGET_MB.
 */
import { graphLoadBytes } from "../bundle/graph-files.ts";
import type { GraphEntry, GraphMemoryProfile, TextArchitecture } from "../bundle/manifest.ts";

export interface GraphMemoryCost {
  /** Heap of the runtime itself before any graph (bytes). */
  runtimeBytes: number;
  /** Heap the loaded graph holds (bytes). */
  loadBytes: number;
  /** Heap per token position of a run (bytes). */
  tokenBytes: number;
  /** "measured": from the manifest (prepare); "estimated": from the architecture. */
  source: "measured" | "estimated";
}

/** onnxruntime-web 1.30's heap after start-up, before any graph (measured: 16-17 MiB). */
export const DEFAULT_RUNTIME_BYTES = 18 * 2 ** 20;

/**
 * Share added to a measured per-token cost: the heap grows in steps of >= 5 %
 * (conditioning/memory/heap-growth.ts), so a measured growth can fall short of
 * the need by up to that step divided over the probe's tokens.
 */
export const TOKEN_BYTES_MARGIN = 0.1;

/**
 * Activation bytes per token position, estimated from the dims: the residual
 * stream, LayerNorm output, packed q/k/v, attention output (7 x hidden), the MLP's
 * fc1 and activation outputs (2 x intermediate) and one row of attention scores per
 * head over the longest sequence, in float32.
 */
export function estimateTokenBytes(arch: TextArchitecture): number {
  return 4 * (7 * arch.hiddenSize + 2 * arch.intermediateSize + arch.numHeads * arch.maxPositions);
}

/** A loaded graph's heap, estimated from its bytes: initialisers are copied in, plus 10 %. */
export function estimateLoadBytes(entry: GraphEntry): number {
  return Math.ceil(graphLoadBytes(entry) * 1.1) + 2 ** 20;
}

function validProfile(p: GraphMemoryProfile | undefined): p is GraphMemoryProfile {
  return (
    !!p &&
    [p.runtimeBytes, p.loadBytes, p.tokenBytes].every((v) => Number.isFinite(v) && v >= 0) &&
    p.tokenBytes > 0
  );
}

/** The heap costs of a text graph: measured when the manifest has them, estimated otherwise. */
export function graphMemoryCost(entry: GraphEntry, arch: TextArchitecture): GraphMemoryCost {
  const estimate = estimateTokenBytes(arch);
  if (validProfile(entry.memory)) {
    return {
      runtimeBytes: entry.memory.runtimeBytes,
      // A small graph can load into the runtime's free heap without growing it: its
      // initialisers still take their bytes.
      loadBytes: Math.max(entry.memory.loadBytes, graphLoadBytes(entry)),
      // A measurement below a quarter of the estimate is growth hidden in the heap's slack.
      tokenBytes: Math.max(
        Math.ceil(entry.memory.tokenBytes * (1 + TOKEN_BYTES_MARGIN)),
        Math.ceil(estimate / 4),
      ),
      source: "measured",
    };
  }
  return {
    runtimeBytes: DEFAULT_RUNTIME_BYTES,
    loadBytes: estimateLoadBytes(entry),
    tokenBytes: estimate,
    source: "estimated",
  };
}

/** Heap a run of `rows` sequences padded to `tokens` positions needs (bytes). */
export function runBytes(cost: GraphMemoryCost, rows: number, tokens: number): number {
  return rows * tokens * cost.tokenBytes;
}
