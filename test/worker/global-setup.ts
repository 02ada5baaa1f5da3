/**
 * Node side of the worker tests: prepares the tiny-openai bundle from the shared
 * fixtures into a temp dir (never into the repo) and provides its path; the
 * pool's FIXTURES service binding (pool-options.ts) serves it to workerd.
 * Int8 variants go to `variants/<name>/` under it (served as
 * `bundle/variants/<name>/...`): the token table in the graph (`int8`) and
 * beside it, read by range (`int8-external`), and the `prepare --edge` shape
 * (`int8-edge`: staged graph + external data + table beside it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { prepareBundle } from "../../node/prepare/prepare-bundle.ts";
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
      ...(edge ? { stages: "per-layer" as const, externalDataThreshold: 1024 } : {}),
    });
  }
  project.provide("workerBundleDir", out);
  project.provide("workerFixturesDir", fixturePath());
  return () => rmSync(root, { recursive: true, force: true });
}
