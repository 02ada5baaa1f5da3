/**
 * Node side of the worker tests: prepares the tiny-openai bundle from the shared
 * fixtures into a temp dir (never into the repo) and provides its path; the
 * pool's FIXTURES service binding (pool-options.ts) serves it to workerd.
 * Int8 variants go to `variants/<name>/` under it (served as
 * `bundle/variants/<name>/...`): the token table in the graph (`int8`) and
 * beside it, read by range (`int8-external`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { prepareBundle } from "../../tools/prepare/prepare-bundle.ts";
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
  for (const [variant, tokenEmbedding] of [
    ["int8", "int8"],
    ["int8-external", "external-int8"],
  ] as const) {
    await prepareBundle({
      from: fixturePath("models", "tiny-openai"),
      out: join(out, "variants", variant),
      quantization: "int8",
      tokenEmbedding,
      towers: ["text"],
      skipReport: true,
      name: `tiny-openai-${variant}`,
    });
  }
  project.provide("workerBundleDir", out);
  project.provide("workerFixturesDir", fixturePath());
  return () => rmSync(root, { recursive: true, force: true });
}
