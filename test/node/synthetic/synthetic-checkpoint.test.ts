import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prepareBundle } from "../../../node/prepare/prepare-bundle.ts";
import { readCheckpoint } from "../../../node/prepare/read-checkpoint.ts";
import { openBundleGraphWeb } from "../../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../../node/runtime/load-bundle.ts";
import {
  CLIP_L14_TEXT,
  createSyntheticCheckpoint,
  writeSyntheticCheckpoint,
} from "../../../node/synthetic/synthetic-checkpoint.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-synth-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("synthetic checkpoints", () => {
  it("CLIP ViT-L/14 text preset has the real dimensions and parameter count", () => {
    expect(CLIP_L14_TEXT).toMatchObject({
      vocabSize: 49408,
      hiddenSize: 768,
      numLayers: 12,
      numHeads: 12,
    });
    // Count without allocating: 49408*768 + 77*768 + 12 * (4*(768*768+768) + 2*2*768 + 2*768*3072 + 3072 + 768) + 2*768 + 768*768
    const w = 768;
    const perLayer = 4 * (w * w + w) + 4 * w + 2 * w * 3072 + 3072 + w;
    const total = 49408 * w + 77 * w + 12 * perLayer + 2 * w + w * w;
    expect(total).toBeGreaterThan(123e6);
    expect(total).toBeLessThan(124e6);
  });

  it("a small synthetic text+vision checkpoint is deterministic and prepares in every variant", async () => {
    const dims = {
      text: {
        ...CLIP_L14_TEXT,
        vocabSize: 1000,
        hiddenSize: 64,
        intermediateSize: 256,
        numLayers: 2,
        numHeads: 4,
      },
      vision: {
        hiddenSize: 64,
        intermediateSize: 128,
        numLayers: 1,
        numHeads: 2,
        imageSize: 64,
        patchSize: 32,
        hiddenAct: "gelu" as const,
      },
      projectionDim: 32,
    };
    const a = createSyntheticCheckpoint({ ...dims, seed: 7 });
    const b = createSyntheticCheckpoint({ ...dims, seed: 7 });
    expect(a.tensors["text_model.encoder.layers.1.mlp.fc2.weight"].data).toEqual(
      b.tensors["text_model.encoder.layers.1.mlp.fc2.weight"].data,
    );
    const dir = writeSyntheticCheckpoint(join(tmp, "ckpt"), { ...dims, seed: 7 });
    const ck = readCheckpoint(dir);
    expect(ck.config.text?.vocabSize).toBe(1000);
    expect(ck.config.vision?.imageSize).toBe(64);
    for (const quantization of ["fp32", "int8", "q4"] as const) {
      const out = join(tmp, quantization);
      const { manifest } = await prepareBundle({ from: dir, out, quantization });
      expect(manifest.graphs.map((g) => g.kind)).toEqual(["text", "vision"]);
      const bundle = loadBundle(out);
      const text = await openBundleGraphWeb(bundle, "text");
      const ids = BigInt64Array.from([49406n % 1000n, 5n, 999n, 7n]);
      const r = await text.run({ input_ids: text.tensor("int64", ids, [1, 4]) }, [
        "pooled",
        "text_embeds",
      ]);
      expect(r.text_embeds.dims).toEqual([1, 32]);
      expect(Array.from(r.text_embeds.data as Float32Array).every(Number.isFinite)).toBe(true);
      if (quantization !== "fp32") {
        const report = manifest.quantizationReport?.[quantization];
        expect(report?.tokenCosineMin).toBeGreaterThan(0.5);
        expect(report?.imageEmbedsCosineMin).toBeGreaterThan(0.5);
      }
    }
  });
});
