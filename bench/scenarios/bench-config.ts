import { resolve } from "node:path";

/**
 * Which models / variants / runtimes the model scenarios cover. Defaults by
 * mode; environment overrides (the harness owns the command line):
 *   CLIP_EDGE_BENCH_MODELS    e.g. clip-vit-l14-text,clip-vit-b32-text
 *   CLIP_EDGE_BENCH_VARIANTS  e.g. fp32,int8,q4,q4-ext
 *   CLIP_EDGE_BENCH_RUNTIMES  wasm-node,native,workerd
 *   CLIP_EDGE_BENCH_RUNS      timed runs per measurement
 *   CLIP_EDGE_BENCH_CACHE     prepared-model cache (default .cache/bench, gitignored)
 */
export interface BenchConfig {
  quick: boolean;
  cacheDir: string;
  models: string[];
  variants: string[];
  /** Lever variants per model, measured with onnxruntime-web only. */
  experiments: (model: string) => string[];
  runtimes: string[];
  warmup: number;
  runs: number;
  tokens: number[];
  batches: number[];
  batchTokens: number;
}

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function benchConfig(quick: boolean, env: NodeJS.ProcessEnv = process.env): BenchConfig {
  // Quick: 7 runs, enough for a stable median of the paired workerd / wasm-node text rows.
  const runs = Number(env.CLIP_EDGE_BENCH_RUNS) || (quick ? 7 : 5);
  const variants = list(env.CLIP_EDGE_BENCH_VARIANTS);
  return {
    quick,
    cacheDir: resolve(env.CLIP_EDGE_BENCH_CACHE ?? ".cache/bench"),
    models:
      list(env.CLIP_EDGE_BENCH_MODELS) ??
      (quick ? ["clip-vit-b32-text"] : ["clip-vit-l14-text", "clip-vit-b32-text"]),
    variants: variants ?? (quick ? ["int8"] : ["fp32", "int8", "q4"]),
    experiments: (model) =>
      list(env.CLIP_EDGE_BENCH_EXPERIMENTS) ??
      (quick || variants
        ? []
        : model === "clip-vit-l14-text"
          ? [
              "q4-ext",
              "int8-ext",
              "mixed-q4mlp",
              "q4-embeds-ext",
              "int8-embeds-ext",
              "mixed-embeds-ext",
              "int8-staged",
              "int8-tensor",
              "int8-tensor-staged",
              "mixed-staged",
              "q4-staged",
              "q4-acc4",
              "int8-dq",
            ]
          : ["int8-ext", "q4-embeds-ext", "int8-embeds-ext", "int8-staged"]),
    runtimes: list(env.CLIP_EDGE_BENCH_RUNTIMES) ?? ["native", "wasm-node", "workerd"],
    warmup: 1,
    runs,
    tokens: quick ? [8, 25] : [8, 25, 77],
    batches: quick ? [1, 8] : [1, 8, 32],
    batchTokens: 25,
  };
}
