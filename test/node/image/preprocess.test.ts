import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  clipTransform,
  type DecodedImage,
  resizedSize,
  roundHalfEven,
} from "../../../node/image/clip-transform.ts";
import { OPENAI_CLIP_PREPROCESSOR, parsePreprocessorConfig } from "../../../node/image/config.ts";
import { createImageDecoder } from "../../../node/image/decode.ts";
import { createImagePreprocessor } from "../../../node/image/image-preprocessor.ts";
import { resample } from "../../../node/image/pil-resample.ts";
import { codeOf } from "../../helpers/error-code.ts";
import {
  FIXTURE_IMAGES,
  goldenPixelValues,
  maxAbsDiff,
  readFixtureImage,
  sharpFactory,
  tinyOpenaiPreprocessor,
} from "../../origin/helpers.ts";

describe("OpenAI CLIP preprocessing", () => {
  const golden = goldenPixelValues();
  const preprocessor = createImagePreprocessor({
    sharp: sharpFactory,
    config: tinyOpenaiPreprocessor(),
  });

  it("golden tensor has the documented shape", () => {
    expect(golden.shape).toEqual([5, 3, 224, 224]);
  });

  it.each(FIXTURE_IMAGES.map((name, index) => [name, index] as const))(
    "%s matches the reference pixel_values (measured: bit-identical)",
    async (name, index) => {
      const values = await preprocessor.preprocess(readFixtureImage(name), { label: name });
      expect(values.length).toBe(3 * 224 * 224);
      const diff = maxAbsDiff(values, golden.data, index * values.length);
      // Goal of the issue is 1e-3; the port of Pillow's fixed-point resampler is exact.
      expect(diff).toBeLessThanOrEqual(1e-6);
    },
  );

  it("writes into a batch buffer at an offset", async () => {
    const out = new Float32Array(2 * preprocessor.imageSize).fill(Number.NaN);
    await preprocessor.preprocess(readFixtureImage("rocket.jpg"), {
      out,
      offset: preprocessor.imageSize,
    });
    expect(Number.isNaN(out[0])).toBe(true);
    expect(
      maxAbsDiff(out.subarray(preprocessor.imageSize), golden.data, 3 * preprocessor.imageSize),
    ).toBeLessThanOrEqual(1e-6);
  });

  it("ignores embedded ICC profiles like PIL (sharp's default conversion would change pixels)", async () => {
    const bytes = readFixtureImage("rocket.jpg");
    expect((await sharp(bytes).metadata()).hasProfile).toBe(true);
    const converted = await sharp(bytes).raw().toBuffer();
    const ignored = await sharp(bytes, { ignoreIcc: true }).raw().toBuffer();
    expect(Buffer.compare(converted, ignored)).not.toBe(0);
  });
});

describe("PIL semantics", () => {
  it("rounds crop offsets half to even like Python round()", () => {
    expect([0.5, 1.5, 2.5, 55.5, 56.5, 3].map(roundHalfEven)).toEqual([0, 2, 2, 56, 56, 3]);
  });

  it("sizes the long side as int(224 * long / short)", () => {
    expect(resizedSize(640, 427, 224)).toEqual({ width: 335, height: 224 });
    expect(resizedSize(451, 300, 224)).toEqual({ width: 336, height: 224 });
    expect(resizedSize(300, 451, 224)).toEqual({ width: 224, height: 336 });
  });

  it("keeps a constant image constant through the fixed-point bicubic (no drift)", () => {
    const data = new Uint8Array(37 * 23 * 3).fill(200);
    const out = resample({ data, width: 37, height: 23, channels: 3 }, 11, 50);
    expect(out.width).toBe(11);
    expect(out.height).toBe(50);
    expect(new Set(out.data)).toEqual(new Set([200]));
  });

  it("clips bicubic overshoot to 0..255 at hard edges", () => {
    const data = new Uint8Array(8);
    data.fill(255, 4);
    const out = resample({ data, width: 8, height: 1, channels: 1 }, 20, 1);
    expect(Math.max(...out.data)).toBe(255);
    expect(Math.min(...out.data)).toBe(0);
  });

  function transparentRed(size: number): DecodedImage {
    const data = new Uint8Array(size * size * 4);
    for (let i = 0; i < data.length; i += 4) data[i] = 255;
    return { data, width: size, height: size, channels: 4, mode: "RGBA" };
  }

  it("resizes RGBA premultiplied and then drops alpha (transparent red -> black)", () => {
    const values = clipTransform(transparentRed(448), OPENAI_CLIP_PREPROCESSOR);
    const [mean, std] = [OPENAI_CLIP_PREPROCESSOR.mean[0], OPENAI_CLIP_PREPROCESSOR.std[0]];
    expect(values[0]).toBeCloseTo(-mean / std, 5);
  });

  it("does not premultiply when no resize happens (transparent red stays red)", () => {
    const values = clipTransform(transparentRed(224), OPENAI_CLIP_PREPROCESSOR);
    const [mean, std] = [OPENAI_CLIP_PREPROCESSOR.mean[0], OPENAI_CLIP_PREPROCESSOR.std[0]];
    expect(values[0]).toBeCloseTo((1 - mean) / std, 5);
  });

  it("resizes palette images with NEAREST as PIL forces for mode P", async () => {
    // 2x2 checkerboard palette PNG upscaled: nearest keeps only the two colours.
    const checker = new Uint8Array([0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0]);
    const png = await sharp(checker, { raw: { width: 2, height: 2, channels: 3 } })
      .png({ palette: true })
      .toBuffer();
    const decoded = await createImageDecoder(sharpFactory)(new Uint8Array(png));
    expect(decoded.mode).toBe("P");
    const values = clipTransform(decoded, OPENAI_CLIP_PREPROCESSOR);
    const plane = values.subarray(0, 224 * 224);
    expect(new Set(Array.from(plane, (v) => v.toFixed(4))).size).toBe(2);
  });

  it("reads old-style integer sizes from preprocessor_config.json", () => {
    const config = parsePreprocessorConfig({ size: 336, crop_size: 336 });
    expect(config.shortestEdge).toBe(336);
    expect(config.cropSize).toEqual({ height: 336, width: 336 });
    expect(() => parsePreprocessorConfig({ size: {} })).toThrow(/shortest_edge/);
  });
});

describe("decoding", () => {
  const decode = createImageDecoder(sharpFactory, { maxBytes: 1_000_000, maxPixels: 1_000_000 });

  it("rejects a decompression bomb from the header (413) before decoding", async () => {
    const bomb = await sharp({
      create: { width: 4000, height: 4000, channels: 3, background: "#000" },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(1_000_000);
    expect(await codeOf(decode(new Uint8Array(bomb)))).toBe("too_large");
  });

  it("rejects too many bytes (413), non-images (415) and corrupt images (400)", async () => {
    expect(await codeOf(decode(new Uint8Array(1_000_001)))).toBe("too_large");
    expect(await codeOf(decode(new TextEncoder().encode("GIF89a not supported")))).toBe(
      "unsupported_media_type",
    );
    const truncated = readFixtureImage("rocket.jpg").subarray(0, 2000);
    expect(await codeOf(decode(truncated))).toBe("malformed");
  });

  it("decodes greyscale as one band and applies EXIF orientation", async () => {
    const grey = await decode(readFixtureImage("camera.png"));
    expect(grey).toMatchObject({ mode: "L", channels: 1, width: 512, height: 512 });
    const rotated = await sharp({
      create: { width: 40, height: 20, channels: 3, background: "#f00" },
    })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const oriented = await decode(new Uint8Array(rotated));
    expect([oriented.width, oriented.height]).toEqual([20, 40]);
    const raw = await createImageDecoder(sharpFactory, { applyExifOrientation: false })(
      new Uint8Array(rotated),
    );
    expect([raw.width, raw.height]).toEqual([40, 20]);
  });
});
