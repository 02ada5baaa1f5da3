/**
 * Origin throughput on CPU: images/s of the vision graph at batch 1 and 32 with a bare
 * `session.run` loop, the same images through the origin's dynamic batcher (32 concurrent
 * single-image submissions, as 32 concurrent requests produce), and the batching overhead
 * (batcher time / bare batch-32 time - 1). Graphs: tiny-openai (fixtures) and, unless
 * --quick, a synthetic CLIP ViT-B/32-size vision tower (bench/synthetic, random weights).
 * Also preprocessing throughput (sharp decode + PIL-exact resize/crop/normalise).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { OPENAI_CLIP_PREPROCESSOR } from "../../node/image/config.ts";
import { createImagePreprocessor } from "../../node/image/image-preprocessor.ts";
import { encodeModel } from "../../node/onnx/onnx-proto.ts";
import { parseClipConfig } from "../../node/prepare/clip-config.ts";
import { readCheckpoint } from "../../node/prepare/read-checkpoint.ts";
import { loadVisionWeights } from "../../node/prepare/tower-weights.ts";
import { buildVisionGraph } from "../../node/prepare/vision-graph.ts";
import { createDynamicBatcher } from "../../node/runtime/dynamic-batcher.ts";
import { createOrtNodeSession } from "../../node/runtime/ort-node-session.ts";
import { createVisionEncoder, type VisionEncoder } from "../../node/runtime/vision-encoder.ts";
import type { BenchContext, Scenario } from "../harness.ts";
import { createModelCache, filePath } from "../synthetic/model-cache.ts";
import { modelSpec } from "../synthetic/model-specs.ts";
import { variantSpec } from "../synthetic/variants.ts";
import { benchConfig } from "./bench-config.ts";

const IMAGE_SIZE = 3 * 224 * 224;
const PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "camera.png"];

function fixturesDir(): string {
  return process.env.CLIP_EDGE_FIXTURES
    ? resolve(process.env.CLIP_EDGE_FIXTURES)
    : resolve(import.meta.dirname, "..", "..", "..", "shared", "fixtures");
}

function tinyVisionOnnx(): Uint8Array {
  const dir = join(fixturesDir(), "models", "tiny-openai");
  const config = parseClipConfig(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")));
  if (!config.vision) throw new Error(`${dir}: no vision config`);
  const weights = loadVisionWeights(
    readCheckpoint(dir).tensors,
    config.vision,
    config.projectionDim,
  );
  const encoded = encodeModel(
    buildVisionGraph(config.vision, weights, { quantization: "fp32" }).model,
  );
  const out = new Uint8Array(encoded.length);
  let offset = 0;
  for (const chunk of encoded.chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

async function benchGraph(
  ctx: BenchContext,
  model: string,
  encoder: VisionEncoder,
  images: Float32Array[],
) {
  const runs = ctx.quick ? 3 : 8;
  for (const batch of [1, 32]) {
    const input = images.slice(0, batch);
    const t = await ctx.measure(() => encoder.encode(input), { runs, warmup: 1 });
    ctx.report({
      scenario: "origin",
      model,
      variant: `bare session.run, batch ${batch}`,
      runtime: "onnxruntime-node cpu",
      median_ms: t.median_ms,
      p95_ms: t.p95_ms,
      runs: t.runs,
      throughput: (batch * 1000) / t.median_ms,
      unit: "images/s",
    });
  }
  const batcher = createDynamicBatcher<Float32Array, Float32Array>({
    maxBatch: 32,
    maxWaitMs: 5,
    maxQueue: 256,
    runBatch: (items) => encoder.encode(items),
  });
  // Paired, interleaved runs (bare batch 32, then the same 32 images through the batcher) so
  // that load on a shared machine hits both sides alike; overhead = median of per-pair ratios.
  const bareMs: number[] = [];
  const batchedMs: number[] = [];
  await Promise.all(images.map((image) => batcher.submit([image])));
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    await encoder.encode(images);
    bareMs.push(performance.now() - t0);
    t0 = performance.now();
    await Promise.all(images.map((image) => batcher.submit([image])));
    batchedMs.push(performance.now() - t0);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = median(batchedMs.map((b, i) => b / bareMs[i]));
  const batched = { median_ms: median(batchedMs), p95_ms: Math.max(...batchedMs), runs };
  const sizes = Object.keys(batcher.stats().batchSizes).join(",");
  ctx.report({
    scenario: "origin",
    model,
    variant: "dynamic batcher, 32 concurrent x 1 image",
    runtime: "onnxruntime-node cpu",
    median_ms: batched.median_ms,
    p95_ms: batched.p95_ms,
    runs: batched.runs,
    throughput: (32 * 1000) / batched.median_ms,
    unit: "images/s",
    overhead_vs_bare: `${((ratio - 1) * 100).toFixed(1)}% (paired; bare median ${median(bareMs).toFixed(1)} ms)`,
    batch_sizes: sizes,
  });
}

export const scenario: Scenario = {
  name: "origin",
  description: "origin vision throughput (batch 1/32, dynamic batching overhead, preprocessing)",
  async run(ctx) {
    const dir = fixturesDir();
    const preprocessor = createImagePreprocessor({
      sharp: (i, o) => sharp(i, o),
      config: OPENAI_CLIP_PREPROCESSOR,
    });
    const photos = PHOTOS.map((name) => new Uint8Array(readFileSync(join(dir, "images", name))));
    const pre = await ctx.measure(
      () => Promise.all(photos.map((p) => preprocessor.preprocess(p))),
      {
        runs: ctx.quick ? 3 : 10,
      },
    );
    ctx.report({
      scenario: "origin",
      variant: "preprocess (decode + PIL resize + crop + normalise), 5 photos",
      runtime: "sharp + js",
      median_ms: pre.median_ms,
      p95_ms: pre.p95_ms,
      runs: pre.runs,
      throughput: (photos.length * 1000) / pre.median_ms,
      unit: "images/s",
    });
    const pixels = await Promise.all(photos.map((p) => preprocessor.preprocess(p)));
    const images = Array.from({ length: 32 }, (_, i) => pixels[i % pixels.length]);
    for (const image of images) if (image.length !== IMAGE_SIZE) throw new Error("bad pixel size");

    const tiny = await createOrtNodeSession(tinyVisionOnnx(), { label: "tiny-openai vision" });
    await benchGraph(
      ctx,
      "tiny-openai",
      createVisionEncoder({ session: tiny, tensor: tiny.tensor, imageShape: [3, 224, 224] }),
      images,
    );
    await tiny.release();
    if (ctx.quick) {
      ctx.note("origin: --quick skips the ViT-B/32-size graph");
      return;
    }
    const cache = createModelCache({
      // The same prepared-model cache as the text scenarios (CLIP_EDGE_BENCH_CACHE).
      dir: benchConfig(ctx.quick).cacheDir,
      log: (line) => ctx.note(line),
    });
    const prepared = cache.ensure(modelSpec("clip-vit-b32-vision"), variantSpec("fp32"));
    const b32 = await createOrtNodeSession(filePath(prepared, prepared.graph), {
      label: "B/32 vision",
    });
    await benchGraph(
      ctx,
      "clip-vit-b32-vision (synthetic)",
      createVisionEncoder({ session: b32, tensor: b32.tensor, imageShape: [3, 224, 224] }),
      images,
    );
    await b32.release();
  },
};
