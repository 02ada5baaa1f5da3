/**
 * Response-cache latency of the real worker app in workerd: miss (inference)
 * vs hit (Cache API) vs 304 on /v1/embeddings and /v1/conditioning, measured
 * from outside per request (bench/workerd/app-cache-bench.ts). Quick mode
 * serves a tiny synthetic text tower, otherwise synthetic CLIP ViT-B/32 text
 * (and CLIP-L text when the run covers it) as `prepare --quant int8 --edge`
 * bundles, the worker's staged loading included; records carry the isolate's
 * WASM heap from /readyz. Runs only when CLIP_EDGE_BENCH_RUNTIMES includes workerd.
 */
import type { BenchContext, Scenario } from "../harness.ts";
import { appBundleSpecs, bundleVariant, ensureAppBundle } from "../workerd/app-bundle.ts";
import { measureCacheHit } from "../workerd/app-cache-bench.ts";
import { benchConfig } from "./bench-config.ts";

export const scenario: Scenario = {
  name: "cache-hit",
  description:
    "worker app in workerd: response cache miss vs hit vs 304 on /v1/embeddings and /v1/conditioning",
  async run(ctx: BenchContext) {
    const cfg = benchConfig(ctx.quick);
    if (!cfg.runtimes.includes("workerd")) return;
    const specs = appBundleSpecs(ctx.quick, cfg.models);
    const records = [];
    for (const spec of specs) {
      const bundleDir = await ensureAppBundle(spec, {
        cacheDir: cfg.cacheDir,
        log: (l) => ctx.note(l),
      });
      records.push(
        ...(await measureCacheHit({
          bundleDir,
          name: spec.name,
          model: spec.model,
          variant: bundleVariant(spec),
          runs: ctx.quick ? 3 : Math.max(cfg.runs, 10),
          log: (l) => ctx.note(l),
        })),
      );
    }
    for (const r of records) ctx.report(r);
    const hits = records.filter((r) => r.cache === "hit");
    ctx.note(
      `cache-hit: ${hits.map((r) => `${r.route} hit ${r.median_ms} ms vs miss ${r.miss_median_ms} ms (x${r.ratio_vs_miss})`).join("; ")}`,
    );
  },
};
