import { fileURLToPath } from "node:url";
import type { BenchContext, BenchResult, Scenario } from "../harness.ts";
import { createModelCache, type ModelCache, type PreparedModel } from "../synthetic/model-cache.ts";
import { type ModelSpec, modelSpec } from "../synthetic/model-specs.ts";
import { variantSpec } from "../synthetic/variants.ts";
import { measureWorkerdText } from "../workerd/workerd-bench.ts";
import { benchConfig } from "./bench-config.ts";
import type { BenchRuntime, SessionConfig } from "./bench-runtimes.ts";
import { runChild } from "./child-process.ts";
import { quantReport } from "./quant-report-native.ts";
import { round } from "./stats.ts";
import type { TextChildArgs } from "./text-encoder-child.ts";

const CHILD = fileURLToPath(new URL("./text-encoder-child.ts", import.meta.url));

/** Same measurement on another runtime: same scenario, model, variant, tokens, batch, config. */
function key(r: BenchResult): string {
  return [r.scenario, r.model, r.variant, r.tokens, r.seq, r.batch, r.config].join("|");
}

/**
 * Text encoder latency, throughput, memory and cold start on real-size
 * synthetic CLIP text towers: onnxruntime-web (WASM, 1 thread) in Node vs
 * onnxruntime-node (1 thread) on the same graph, each in a fresh process.
 */
export const scenario: Scenario = {
  name: "text-encoder",
  description:
    "CLIP text towers (synthetic, real size): pooled 8/25/77 tokens, full 77xW, batch 1/8/32, memory, cold start; WASM vs native",
  async run(ctx: BenchContext) {
    const cfg = benchConfig(ctx.quick);
    const cache = createModelCache({ dir: cfg.cacheDir, log: (l) => ctx.note(l) });
    for (const modelId of cfg.models) {
      const spec = modelSpec(modelId);
      if (spec.kind !== "text") continue;
      const reference = cache.ensure(spec, variantSpec("fp32"));
      const plan: { variant: string; runtimes: string[] }[] = [
        ...cfg.variants.map((variant) => ({
          variant,
          runtimes: cfg.runtimes,
        })),
        // Lever variants run in WASM in Node, and in workerd when they are a shape the
        // worker loads (external data, table outside, stages).
        ...cfg.experiments(modelId).map((variant) => ({
          variant,
          runtimes: cfg.runtimes.filter(
            (r) => r === "wasm-node" || (r === "workerd" && variantSpec(variant).externalData),
          ),
        })),
      ];
      for (const { variant, runtimes } of plan) {
        const v = variantSpec(variant);
        const prepared = cache.ensure(spec, v);
        // Lever variants: latency at batch 1 only (memory and per-prompt latency are what they change).
        const vcfg = v.experiment ? { ...cfg, batches: cfg.batches.slice(0, 1) } : cfg;
        if (v.quantization !== "fp32" && !v.embeddingsOutside && !prepared.report) {
          cache.saveReport(
            prepared,
            await quantReport(reference, prepared, spec.config.maxPositions),
          );
        }
        const native = new Map<string, number>();
        // Large fp32 graphs are not uploaded into local workerd R2.
        const skip = (r: string) => r === "workerd" && v.id === "fp32";
        for (const runtime of runtimes.filter((r) => !skip(r))) {
          const records =
            runtime === "workerd"
              ? await measureWorkerdText(prepared, {
                  ...vcfg,
                  ...(cfg.quick ? { tokens: [8], batches: [1] } : {}),
                  maxPositions: spec.config.maxPositions,
                })
              : await measureText(
                  prepared,
                  runtime as BenchRuntime,
                  vcfg,
                  spec.config.maxPositions,
                );
          if (runtime === "wasm-node" && v.embeddingsOutside && !v.stages) {
            // Lever: external data handed over per initializer and dropped once copied.
            records.push(
              ...(await measureText(prepared, runtime, vcfg, spec.config.maxPositions, {
                label: "releasing-external-data",
                session: { externalData: "releasing" },
              })),
            );
          }
          if (runtime === "wasm-node" && v.stages) {
            // Lever: the worker's tight heap growth (conditioning/memory/heap-growth.ts).
            records.push(
              ...(await measureText(prepared, runtime, vcfg, spec.config.maxPositions, {
                label: "tight-heap",
                session: { heapGrowth: "tight" },
              })),
            );
          }
          for (const r of records) {
            if (runtime === "native") native.set(key(r), r.median_ms);
            const base = native.get(key(r));
            if (runtime !== "native" && base && r.scenario !== "cold-start") {
              r.ratio_vs_native = round(r.median_ms / base, 2);
            }
            const report = prepared.report ?? siblingReport(cache, spec, v.id);
            if (r.scenario === "cold-start" && report) {
              r.token_cosine_min = round(report.tokenCosineMin, 5);
              r.token_cosine_mean = round(report.tokenCosineMean, 5);
              if (!prepared.report) r.cosine_from = SIBLING[v.id];
            }
            if (v.experiment) r.lever = v.experiment;
            ctx.report(r);
          }
        }
      }
    }
  },
};

/**
 * Graphs fed `token_embeds` (and staged graphs) compute exactly what their sibling computes with
 * the int8 table gathered in the graph (same rows, same dequantisation), so
 * they carry the sibling's report (labelled `cosine_from`).
 */
const SIBLING: Record<string, string> = {
  "q4-embeds-ext": "q4",
  "int8-embeds-ext": "int8",
  "mixed-embeds-ext": "mixed-q4mlp",
  "int8-staged": "int8",
  "int8-tensor-staged": "int8-tensor",
  "mixed-staged": "mixed-q4mlp",
  "q4-staged": "q4",
};

function siblingReport(cache: ModelCache, spec: ModelSpec, variant: string) {
  const sibling = SIBLING[variant];
  return sibling ? cache.ensure(spec, variantSpec(sibling)).report : undefined;
}

function measureText(
  prepared: PreparedModel,
  runtime: BenchRuntime,
  cfg: ReturnType<typeof benchConfig>,
  maxPositions: number,
  lever?: { label: string; session: SessionConfig },
): Promise<BenchResult[]> {
  const args: TextChildArgs = {
    runtime,
    prepared,
    config: lever?.label ?? "default",
    session: lever?.session ?? {},
    warmup: cfg.warmup,
    runs: cfg.runs,
    tokens: cfg.tokens,
    batches: cfg.batches,
    batchTokens: cfg.batchTokens,
    maxPositions,
  };
  return runChild<BenchResult>(CHILD, args, { timeoutMs: 30 * 60_000 });
}
