/**
 * Node side of the worker tests: prepares the tiny-openai bundle from the shared
 * fixtures into a temp dir (never into the repo) and provides its path; the
 * pool's FIXTURES service binding (pool-options.ts) serves it to workerd.
 * Int8 variants go to `variants/<name>/` under it (served as
 * `bundle/variants/<name>/...`): the token table in the graph (`int8`) and
 * beside it, read by range (`int8-external`), and the `prepare --edge` shape
 * (`int8-edge`: staged graph + external data + table beside it). The CLIP-L-sized
 * `--edge` bundle (served as `clip-l/...`) is the memory burst test's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { ensureAppBundle, L14_TEXT_BUNDLE } from "../../bench/workerd/app-bundle.ts";
import { prepareBundle } from "../../node/prepare/prepare-bundle.ts";
import { benchCacheDir } from "../helpers/cache-dir.ts";
import { fixturePath } from "../helpers/fixtures.ts";
import "./pool-options.ts";

export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), "clip-edge-worker-"));
  const out = join(root, "tiny-openai");
  await prepareBundle({
    from: fixturePath("models", "tiny-openai"),
    out,
    quantization: "fp32",
    towers: ["text"],
    skipReport: true,
    name: "tiny-openai",
    memoryProfile: true,
  });
  for (const [variant, tokenEmbedding, edge] of [
    ["int8", "int8", false],
    ["int8-external", "external-int8", false],
    // prepare --edge: one stage per layer + head, external data, table outside.
    ["int8-edge", "external-int8", true],
  ] as const) {
    await prepareBundle({
      from: fixturePath("models", "tiny-openai"),
      out: join(out, "variants", variant),
      quantization: "int8",
      tokenEmbedding,
      towers: ["text"],
      skipReport: true,
      name: `tiny-openai-${variant}`,
      // The edge bundle carries its measured memory profile, as `prepare` writes it.
      ...(edge
        ? { stages: "per-layer" as const, externalDataThreshold: 1024, memoryProfile: true }
        : {}),
    });
  }
  project.provide("workerBundleDir", out);
  // The CLIP-L-sized int8 --edge synthetic bundle of the memory burst test (built once, then
  // cached with the bench's bundles).
  project.provide(
    "clipLBundleDir",
    await ensureAppBundle(L14_TEXT_BUNDLE, { cacheDir: benchCacheDir(), log: () => {} }),
  );
  project.provide("workerFixturesDir", fixturePath());
  return () => rmSync(root, { recursive: true, force: true });
}
