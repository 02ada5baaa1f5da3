/**
 * Issue #14 part 1: one uncached request through the real worker app in
 * workerd, split into token-row reads, the work before the first stage, each
 * stage's run, one more JS copy per stage, and what follows the last stage
 * (conditioning math, serialisation, cache write), for the `--edge` int8
 * bundles at 8, 25 and 77 tokens (bench/workerd/app-breakdown-bench.ts).
 * Synthetic CLIP ViT-B/32 text, and CLIP-L text when the run covers it; quick
 * mode (smoke): the tiny one-graph bundle of cache-hit, 8 and 77 tokens,
 * /v1/embeddings only. Runs only with workerd. Each row has `config: "current"`
 * (the shipped defaults) or `"baseline"` (whole requests under the defaults
 * before issue #14, from a second isolate in the same rounds; `ratio_vs_baseline`
 * on current).
 */
import type { BenchContext, Scenario } from "../harness.ts";
import { type BreakdownRoute, measureAppBreakdown } from "../workerd/app-breakdown-bench.ts";
import { appBundleSpecs, bundleVariant, ensureAppBundle } from "../workerd/app-bundle.ts";
import { benchConfig } from "./bench-config.ts";

/**
 * The worker defaults before issue #14's levers: a 4 ms micro-batching window, no
 * encoded-row cache. Answers are equal either way (test/worker/int8-batch-independence).
 */
const BEFORE_ISSUE_14 = { BATCH_WINDOW_MS: "4", ROW_CACHE_BYTES: "0" };

export const scenario: Scenario = {
  name: "request-breakdown",
  description:
    "worker app in workerd: one uncached request split into row reads, stage runs, copies and the rest",
  async run(ctx: BenchContext) {
    const cfg = benchConfig(ctx.quick);
    if (!cfg.runtimes.includes("workerd")) return;
    const specs = appBundleSpecs(ctx.quick, cfg.models);
    const tokens = ctx.quick ? [8, 77] : [8, 25, 77];
    for (const spec of specs) {
      const bundleDir = await ensureAppBundle(spec, {
        cacheDir: cfg.cacheDir,
        log: (l) => ctx.note(l),
      });
      const routes: BreakdownRoute[] = [
        { path: "/v1/embeddings", body: (model, input) => ({ model, input }), tokens },
        ...(ctx.quick
          ? []
          : [
              {
                path: "/v1/conditioning" as const,
                body: (model: string, prompt: string) => ({
                  model,
                  prompt,
                  format: "safetensors",
                }),
                tokens: [77],
              },
            ]),
      ];
      const common = {
        bundleDir,
        name: spec.name,
        model: spec.model,
        variant: bundleVariant(spec),
        runs: ctx.quick ? 2 : Math.max(cfg.runs, 5),
        routes,
        log: (l: string) => ctx.note(l),
      };
      // The baseline in the same run: a second isolate under the defaults before issue #14,
      // its whole requests alternating with the breakdown's.
      const records = await measureAppBreakdown({ ...common, baselineVars: BEFORE_ISSUE_14 });
      for (const r of records) ctx.report(r);
    }
  },
};
