/**
 * OpenAI CLIP's `_transform(n_px)` on a decoded 8-bit image:
 *   Resize(n_px, BICUBIC) -> CenterCrop(n_px) -> convert("RGB") -> ToTensor -> Normalize
 * with the PIL semantics torchvision 0.14 has on a PIL image (see docs/origin.md).
 */
import type { PreprocessorConfig } from "./config.ts";
import { premultiplyAlpha, unpremultiplyAlpha } from "./pil-alpha.ts";
import {
  BICUBIC,
  type RawImage,
  type ResampleFilter,
  resample,
  resampleNearest,
} from "./pil-resample.ts";

/**
 * The PIL mode the image would have after `Image.open` (what decides how PIL resizes it):
 * "1" and "P" resize with NEAREST, "LA"/"RGBA" resize premultiplied.
 */
export type PilMode = "1" | "L" | "LA" | "P" | "RGB" | "RGBA";

export interface DecodedImage extends RawImage {
  mode: PilMode;
}

const BILINEAR: ResampleFilter = {
  support: 1,
  weight(x: number): number {
    if (x < 0) x = -x;
    return x < 1 ? 1 - x : 0;
  },
};

/** Python's round() on a value that is an integer or an exact half: ties to even. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** torchvision `_compute_resized_output_size` for an int size: shortest side -> size. */
export function resizedSize(
  width: number,
  height: number,
  shortestEdge: number,
): { width: number; height: number } {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((shortestEdge * long) / short);
  return width <= height
    ? { width: shortestEdge, height: newLong }
    : { width: newLong, height: shortestEdge };
}

/** PIL-faithful resize of a decoded image, honouring its mode. */
export function resizeLikePil(
  image: DecodedImage,
  width: number,
  height: number,
  resampleCode = 3,
): DecodedImage {
  if (width === image.width && height === image.height) return image;
  if (image.mode === "1" || image.mode === "P") {
    return { ...resampleNearest(image, width, height), mode: image.mode };
  }
  const filter = resampleCode === 2 ? BILINEAR : BICUBIC;
  if (image.mode === "LA" || image.mode === "RGBA") {
    const premultiplied = { ...image, data: premultiplyAlpha(image.data, image.channels) };
    const resized = resample(premultiplied, width, height, filter);
    return {
      ...resized,
      data: unpremultiplyAlpha(resized.data, resized.channels),
      mode: image.mode,
    };
  }
  return { ...resample(image, width, height, filter), mode: image.mode };
}

/**
 * Runs the whole transform and writes CHW float32 values into `out` at `offset`
 * (3 * crop height * crop width values). Returns `out`.
 */
export function clipTransform(
  image: DecodedImage,
  config: PreprocessorConfig,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const { height: cropH, width: cropW } = config.cropSize;
  const plane = cropH * cropW;
  const target = out ?? new Float32Array(3 * plane);
  if (target.length < offset + 3 * plane) {
    throw new RangeError(
      `clipTransform: output has ${target.length} values, needs ${offset + 3 * plane} (offset ${offset} + 3x${cropH}x${cropW})`,
    );
  }
  const size = resizedSize(image.width, image.height, config.shortestEdge);
  const resized = resizeLikePil(image, size.width, size.height, config.resample);
  // torchvision CenterCrop: pad with zeros when the crop is larger, then
  // top = round((h - ch) / 2), left = round((w - cw) / 2), ties to even.
  const padLeft = cropW > resized.width ? Math.floor((cropW - resized.width) / 2) : 0;
  const padTop = cropH > resized.height ? Math.floor((cropH - resized.height) / 2) : 0;
  const paddedW = Math.max(resized.width, cropW);
  const paddedH = Math.max(resized.height, cropH);
  const top = roundHalfEven((paddedH - cropH) / 2) - padTop;
  const left = roundHalfEven((paddedW - cropW) / 2) - padLeft;
  const ch = resized.channels;
  // convert("RGB"): grey bands are replicated, alpha is dropped.
  const srcChannel = ch <= 2 ? [0, 0, 0] : [0, 1, 2];
  const exactDivision = Math.abs(config.rescaleFactor - 1 / 255) < 1e-12;
  const mean = config.mean.map(Math.fround);
  const std = config.std.map(Math.fround);
  const scaleFactor = Math.fround(config.rescaleFactor);
  for (let c = 0; c < 3; c++) {
    const base = offset + c * plane;
    for (let y = 0; y < cropH; y++) {
      const sy = y + top;
      for (let x = 0; x < cropW; x++) {
        const sx = x + left;
        const inside = sy >= 0 && sy < resized.height && sx >= 0 && sx < resized.width;
        const v = inside ? resized.data[(sy * resized.width + sx) * ch + srcChannel[c]] : 0;
        // ToTensor: float32 v / 255; Normalize: (x - mean) / std, each op in float32.
        const scaled = exactDivision ? Math.fround(v / 255) : Math.fround(v * scaleFactor);
        target[base + y * cropW + x] = Math.fround(Math.fround(scaled - mean[c]) / std[c]);
      }
    }
  }
  return target;
}
