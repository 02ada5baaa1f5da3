import { describe, expect, it } from "vitest";
import { createImagePreprocessor } from "../../node/image/image-preprocessor.ts";
import { createVisionEncoder, l2Normalize } from "../../node/runtime/vision-encoder.ts";
import { createOriginApp } from "../../origin/server/app.ts";
import { fixturePath } from "../helpers/fixtures.ts";
import {
  FIXTURE_IMAGES,
  goldenPixelValues,
  maxAbsDiff,
  readFixtureImage,
  readTensor,
  sharpFactory,
  tinyOpenaiPreprocessor,
} from "./helpers.ts";
import { tinyOpenaiVisionSession } from "./tiny-vision.ts";

/**
 * Tolerance: our pixel values equal the reference bit for bit (preprocess.test.ts), so the
 * only remaining difference is onnxruntime vs torch float32 arithmetic in the graph
 * (measured ~1e-6 on these embeddings, |embeds| ~ 1); 1e-4 leaves margin for thread-count
 * dependent summation order while still catching any single-pixel preprocessing error.
 */
const EMBED_TOLERANCE = 1e-4;

describe("tiny-openai vision tower through the origin", async () => {
  const session = await tinyOpenaiVisionSession();
  const golden = readTensor(
    fixturePath("models", "tiny-openai", "golden.safetensors"),
    "image_embeds",
  );
  const goldenNormalized = readTensor(
    fixturePath("models", "tiny-openai", "golden.safetensors"),
    "image_embeds_normalized",
  );
  const dim = golden.shape[1];
  const encoder = createVisionEncoder({
    session,
    tensor: session.tensor,
    imageShape: [3, 224, 224],
  });
  const preprocessor = createImagePreprocessor({
    sharp: sharpFactory,
    config: tinyOpenaiPreprocessor(),
  });

  it("the golden pixel_values themselves reproduce image_embeds (graph check)", async () => {
    const pixels = goldenPixelValues().data;
    const size = 3 * 224 * 224;
    const images = FIXTURE_IMAGES.map((_, i) => pixels.slice(i * size, (i + 1) * size));
    const embeds = await encoder.encode(images);
    for (const [i, e] of embeds.entries()) {
      expect(maxAbsDiff(e, golden.data, i * dim)).toBeLessThanOrEqual(EMBED_TOLERANCE);
    }
  });

  it("photos -> preprocess -> /v1/image-embeddings match golden image_embeds", async () => {
    const secret = "golden-secret-0123456789";
    const origin = createOriginApp({
      secret,
      model: "tiny-openai",
      vision: { encoder, preprocessor },
      batching: { maxBatch: 8, maxWaitMs: 10, maxQueue: 32 },
    });
    const form = new FormData();
    for (const name of FIXTURE_IMAGES)
      form.append("image", new Blob([readFixtureImage(name)]), name);
    const res = await origin.fetch(
      new Request("http://origin/v1/image-embeddings", {
        method: "POST",
        body: form,
        headers: { authorization: `Bearer ${secret}` },
      }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { index: number; image_embeds: number[] }[] };
    const errors = body.data.map((d, i) => maxAbsDiff(d.image_embeds, golden.data, i * dim));
    console.log(
      `image_embeds max abs error per image (${FIXTURE_IMAGES.join(", ")}): ${errors.map((e) => e.toExponential(2)).join(", ")}`,
    );
    for (const e of errors) expect(e).toBeLessThanOrEqual(EMBED_TOLERANCE);
    for (const [i, d] of body.data.entries()) {
      const normalized = l2Normalize(Float32Array.from(d.image_embeds));
      expect(maxAbsDiff(normalized, goldenNormalized.data, i * dim)).toBeLessThanOrEqual(
        EMBED_TOLERANCE,
      );
    }
  });
});
