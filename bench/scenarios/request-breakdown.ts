/**
 * Issue #14 part 1: one uncached request through the real worker app in
 * workerd, split into token-row reads, the work before the first stage, each
 * stage's run, one more JS copy per stage, and what follows the last stage
 * (conditioning math, serialisation, cache write), for the `--edge` int8
 * bundles at 8, 25 and 77 tokens (bench/workerd/app-breakdown-bench.ts).
 * Synthetic CLIP ViT-B/32 text, and CLIP-L text when the run covers it; quick
 * mode (smoke): the tiny one-graph bundle of cache-hit, 8 and 77 tokens,
 * /v1/embeddings only. Runs only with workerd.
 */
import type { BenchContext, Scenario } from "../harness.ts";
import { measureAppBreakdown } from "../workerd/app-breakdown-bench.ts";
import {
  B32_TEXT_BUNDLE,
  bundleVariant,
  ensureAppBundle,
  L14_TEXT_BUNDLE,
  TINY_TEXT_BUNDLE,
} from "../workerd/app-bundle.ts";
import { benchConfig } from "./bench-config.ts";

export const scenario: Scenario = {
  name: "request-breakdown",
  description:
    "worker app in workerd: one uncached request split into row reads, stage runs, copies and the rest",
  async run(ctx: BenchContext) {
    const cfg = benchConfig(ctx.quick);
    if (!cfg.runtimes.includes("workerd")) return;
    const specs = ctx.quick
      ? [TINY_TEXT_BUNDLE]
      : [B32_TEXT_BUNDLE, ...(cfg.models.includes("clip-vit-l14-text") ? [L14_TEXT_BUNDLE] : [])];
    const tokens = ctx.quick ? [8, 77] : [8, 25, 77];
    for (const spec of specs) {
      const bundleDir = await ensureAppBundle(spec, {
        cacheDir: cfg.cacheDir,
        log: (l) => ctx.note(l),
      });
      const records = await measureAppBreakdown({
        bundleDir,
        name: spec.name,
        model: spec.model,
        variant: bundleVariant(spec),
        runs: ctx.quick ? 2 : Math.max(cfg.runs, 5),
        routes: [
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
        ],
        log: (l) => ctx.note(l),
      });
      for (const r of records) ctx.report(r);
    }
  },
};
