/**
 * Node side of the worker tests: prepares the tiny-openai bundle from the shared
 * fixtures into a temp dir (never into the repo) and provides its path; the
 * pool's FIXTURES service binding (pool-options.ts) serves it to workerd.
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
  project.provide("workerBundleDir", out);
  project.provide("workerFixturesDir", fixturePath());
  return () => rmSync(root, { recursive: true, force: true });
}
