import { afterAll, describe, expect, it } from "vitest";
import { createImagePreprocessor } from "../../../node/image/image-preprocessor.ts";
import { createTransformPool } from "../../../node/image/transform-pool.ts";
import {
  FIXTURE_IMAGES,
  goldenPixelValues,
  maxAbsDiff,
  readFixtureImage,
  sharpFactory,
  tinyOpenaiPreprocessor,
} from "../../origin/helpers.ts";

describe("preprocessing on worker threads", () => {
  const pool = createTransformPool({ size: 2 });
  afterAll(() => pool.close());

  it("gives the same bit-exact pixel values as inline preprocessing, concurrently", async () => {
    const golden = goldenPixelValues();
    const preprocessor = createImagePreprocessor({
      sharp: sharpFactory,
      config: tinyOpenaiPreprocessor(),
      transform: pool.transform,
    });
    const out = new Float32Array(FIXTURE_IMAGES.length * preprocessor.imageSize);
    await Promise.all(
      FIXTURE_IMAGES.map((name, i) =>
        preprocessor.preprocess(readFixtureImage(name), {
          out,
          offset: i * preprocessor.imageSize,
        }),
      ),
    );
    expect(maxAbsDiff(out, golden.data)).toBe(0);
  });

  it("reports a failing job as an internal error and keeps serving", async () => {
    const bad = { data: new Uint8Array(5), width: 3, height: 3, channels: 3, mode: "RGB" as const };
    await expect(pool.transform(bad, tinyOpenaiPreprocessor())).rejects.toMatchObject({
      code: "internal",
    });
    const preprocessor = createImagePreprocessor({
      sharp: sharpFactory,
      config: tinyOpenaiPreprocessor(),
      transform: pool.transform,
    });
    const values = await preprocessor.preprocess(readFixtureImage("camera.png"));
    expect(values.length).toBe(3 * 224 * 224);
  });
});
