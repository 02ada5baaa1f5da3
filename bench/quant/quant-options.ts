import { resolve } from "node:path";
import {
  DEFAULT_MIN_EMBED_COSINE,
  DEFAULT_MIN_TOKEN_COSINE,
  EDGE_MAX_FP32_BYTES,
} from "../../node/prepare/precision-guard.ts";
import { benchConfig } from "../scenarios/bench-config.ts";
import type { QuantTableOptions } from "./quant-table.ts";

/**
 * The quant-accuracy table's settings. Defaults: CLIP-L dims, 48 held-out prompts, 12
 * interleaved rounds, workerd heap of the per-token and guarded --edge bundles; quick:
 * tiny dims, 3 rounds, no workerd. Environment overrides:
 *   CLIP_EDGE_BENCH_QUANT_DIMS     l14 | tiny
 *   CLIP_EDGE_BENCH_QUANT_HELDOUT  held-out prompts
 *   CLIP_EDGE_BENCH_QUANT_ROUNDS   latency rounds
 *   CLIP_EDGE_BENCH_QUANT_WORKERD  rows loaded in workerd (int8-tensor,int8-token,int8-smooth,guarded; "" for none)
 *   CLIP_EDGE_BENCH_CACHE          cache of the guard's plan and the --edge bundles (default .cache/bench)
 */
export function quantTableOptions(
  quick: boolean,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): QuantTableOptions {
  const dims = (env.CLIP_EDGE_BENCH_QUANT_DIMS ?? (quick ? "tiny" : "l14")) as "l14" | "tiny";
  if (dims !== "l14" && dims !== "tiny") {
    throw new Error(`CLIP_EDGE_BENCH_QUANT_DIMS must be l14 or tiny, got ${dims}`);
  }
  const workerd = env.CLIP_EDGE_BENCH_QUANT_WORKERD ?? (quick ? "" : "int8-token,guarded");
  return {
    dims,
    heldout: Number(env.CLIP_EDGE_BENCH_QUANT_HELDOUT) || 48,
    rounds: Number(env.CLIP_EDGE_BENCH_QUANT_ROUNDS) || (quick ? 3 : 12),
    workerd: workerd.split(",").filter(Boolean),
    fixtures: resolve(env.CLIP_EDGE_FIXTURES ?? "../shared/fixtures"),
    cacheDir: benchConfig(quick, env).cacheDir,
    // What `prepare --quant int8 --edge` runs: default targets and margin, the --edge fp32 cap.
    guard: {
      minTokenCosine: DEFAULT_MIN_TOKEN_COSINE,
      minEmbedCosine: DEFAULT_MIN_EMBED_COSINE,
      maxFp32Bytes: EDGE_MAX_FP32_BYTES,
    },
    log,
  };
}
