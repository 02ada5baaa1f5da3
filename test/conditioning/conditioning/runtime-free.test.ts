import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../helpers/fixtures.ts";

/** The core must run in Workers: no Node, Workers or onnxruntime imports, no Buffer. */
describe("conditioning core is runtime-agnostic", () => {
  const dirs = ["conditioning/conditioning", "conditioning/scoring"];
  const files = [
    ...dirs.flatMap((d) => readdirSync(join(repoRoot, d)).map((f) => join(d, f))),
    "conditioning/index.ts",
    ...["npy", "npz", "raw", "json-tensors", "base64", "tensor-bytes", "serialize-tensors"].map(
      (f) => `conditioning/formats/${f}.ts`,
    ),
  ].filter((f) => f.endsWith(".ts"));

  it.each(files)("%s imports nothing runtime-specific", (file) => {
    const text = readFileSync(join(repoRoot, file), "utf8");
    const imports = [...text.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);
    for (const spec of imports) expect(spec.startsWith(".")).toBe(true);
    expect(text).not.toMatch(/\bBuffer\b|\bprocess\.|require\(/);
  });
});
