import { describe, expect, it } from "vitest";
import { goldenFloat, goldens, maxAbsDiff, pixelValues, visionSession } from "./golden-helpers.ts";

describe.each(["tiny-openai", "tiny-gelu"])(
  "fp32 vision graph of %s in onnxruntime-web",
  (model) => {
    it("reproduces vision_pooled and image_embeds from the golden pixel_values (max abs <= 1e-4)", async () => {
      const g = goldens(model);
      const session = await visionSession(model);
      const pixels = pixelValues();
      const out = await session.run({
        pixel_values: session.tensor("float32", pixels, [5, 3, 224, 224]),
      });
      expect(
        maxAbsDiff(out.vision_pooled.data as Float32Array, goldenFloat(g, "vision_pooled")),
      ).toBeLessThanOrEqual(1e-4);
      expect(
        maxAbsDiff(out.image_embeds.data as Float32Array, goldenFloat(g, "image_embeds")),
      ).toBeLessThanOrEqual(1e-4);
      // Batch independence: one image alone gives the same row.
      const one = await session.run(
        {
          pixel_values: session.tensor(
            "float32",
            pixels.subarray(3 * 224 * 224 * 3, 3 * 224 * 224 * 4),
            [1, 3, 224, 224],
          ),
        },
        ["image_embeds"],
      );
      const e = (out.image_embeds.data as Float32Array).length / 5;
      expect(
        maxAbsDiff(
          one.image_embeds.data as Float32Array,
          (out.image_embeds.data as Float32Array).subarray(3 * e, 4 * e),
        ),
      ).toBeLessThanOrEqual(1e-5);
      await session.release();
    });
  },
);
