/**
 * Pillow's premultiplied-alpha round trip. `Image.resize` on "RGBA"/"LA" converts to
 * "RGBa"/"La" (premultiply, `rgbA2rgba`/`lA2la`), resamples all bands, and converts back
 * (`rgba2rgbA`/`la2lA`). OpenAI's pipeline resizes before `convert("RGB")`, so alpha
 * images go through this and only then lose their alpha band (dropped, not composited).
 * Pixels are interleaved; the alpha band is the last one.
 */

/** Pillow's MULDIV255: round(a * b / 255) in integer arithmetic. */
function mulDiv255(a: number, b: number): number {
  const tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

export function premultiplyAlpha(data: Uint8Array, channels: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let p = 0; p < data.length; p += channels) {
    const alpha = data[p + channels - 1];
    for (let c = 0; c < channels - 1; c++) out[p + c] = mulDiv255(data[p + c], alpha);
    out[p + channels - 1] = alpha;
  }
  return out;
}

export function unpremultiplyAlpha(data: Uint8Array, channels: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let p = 0; p < data.length; p += channels) {
    const alpha = data[p + channels - 1];
    for (let c = 0; c < channels - 1; c++) {
      const v = data[p + c];
      out[p + c] = alpha === 255 || alpha === 0 ? v : Math.min(255, Math.trunc((255 * v) / alpha));
    }
    out[p + channels - 1] = alpha;
  }
  return out;
}
