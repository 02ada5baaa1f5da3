import fc from "fast-check";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { createImageDecoder } from "../../../node/image/decode.ts";
import { resample } from "../../../node/image/pil-resample.ts";
import { sharpFactory } from "../../origin/helpers.ts";

function band(data: Uint8Array, channels: number, c: number): Uint8Array {
  return data.filter((_, i) => i % channels === c);
}

describe("Pillow resample port", () => {
  it("resamples each band independently (multi-band path == single-band path)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer(),
        (w, h, ow, oh, channels, seed) => {
          const data = new Uint8Array(w * h * channels);
          let x = seed >>> 0;
          for (let i = 0; i < data.length; i++) {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            data[i] = x >>> 24;
          }
          const out = resample({ data, width: w, height: h, channels }, ow, oh);
          for (let c = 0; c < channels; c++) {
            const single = resample(
              { data: band(data, channels, c), width: w, height: h, channels: 1 },
              ow,
              oh,
            );
            expect(band(out.data, channels, c)).toEqual(single.data);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses bad sizes and band counts", () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    expect(() => resample(img, 0, 2)).toThrow(/positive/);
    expect(() => resample({ ...img, channels: 5, data: new Uint8Array(20) }, 1, 1)).toThrow(
      /channels/,
    );
    expect(() => resample({ ...img, data: new Uint8Array(11) }, 1, 1)).toThrow(/bytes/);
  });
});

describe("PIL modes from the decoder", () => {
  const decode = createImageDecoder(sharpFactory);
  const raw = (channels: 1 | 2 | 3 | 4) =>
    sharp(new Uint8Array(8 * 8 * channels).fill(128), { raw: { width: 8, height: 8, channels } });

  it("reports RGBA / LA PNGs, WebP with and without alpha, and greyscale JPEG", async () => {
    const cases: [Promise<Buffer>, string, number][] = [
      [raw(4).png().toBuffer(), "RGBA", 4],
      [raw(3).png().toBuffer(), "RGB", 3],
      [raw(1).toColourspace("b-w").png().toBuffer(), "L", 1],
      [raw(2).toColourspace("b-w").png().toBuffer(), "LA", 2],
      [raw(4).webp({ lossless: true }).toBuffer(), "RGBA", 4],
      [raw(3).webp({ lossless: true }).toBuffer(), "RGB", 3],
      [raw(1).toColourspace("b-w").jpeg().toBuffer(), "L", 1],
    ];
    for (const [bytes, mode, channels] of cases) {
      const decoded = await decode(new Uint8Array(await bytes));
      expect([decoded.mode, decoded.channels], mode).toEqual([mode, channels]);
      expect(decoded.data.length).toBe(8 * 8 * channels);
    }
  });
});
