/**
 * A port of Pillow's 8-bit resampling (`src/libImaging/Resample.c`, Pillow 9.4, which is
 * what OpenAI's CLIP preprocessing runs through torchvision's `Resize` on a PIL image).
 *
 * What makes the output bit-identical to Pillow:
 * - coefficients are computed in double precision exactly as `precompute_coeffs` does
 *   (support scaled by the downscale factor = antialiasing, centre at `(x + 0.5) * scale`,
 *   bounds rounded with C `(int)(v + 0.5)` truncation, normalised by their sum);
 * - they are then converted to fixed point with PRECISION_BITS = 22 fractional bits and
 *   round-half-away-from-zero (`normalize_coeffs_8bpc`);
 * - each pass accumulates integers starting from `1 << 21` (rounding) and clips
 *   `floor(sum / 2^22)` to 0..255, so the horizontal pass produces an 8-bit intermediate
 *   image that the vertical pass reads, and only the rows the vertical pass needs are
 *   produced (`ImagingResampleInner`).
 *
 * Pixels are interleaved with `channels` (1..4) bytes per pixel.
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface ResampleFilter {
  support: number;
  weight(x: number): number;
}

/** Pillow's BICUBIC: Keys cubic convolution with a = -0.5, support 2. */
export const BICUBIC: ResampleFilter = {
  support: 2,
  weight(x: number): number {
    const a = -0.5;
    if (x < 0) x = -x;
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  },
};

interface Coefficients {
  ksize: number;
  /** [xmin, count] per output position. */
  bounds: Int32Array;
  /** Fixed-point coefficients, ksize per output position. */
  fixed: Int32Array;
}

/** `precompute_coeffs` + `normalize_coeffs_8bpc` for the box [in0, in1) of an axis. */
export function precomputeCoefficients(
  inSize: number,
  in0: number,
  in1: number,
  outSize: number,
  filter: ResampleFilter,
): Coefficients {
  // Pillow passes the box as C floats; integer boxes are exact in float32.
  const scale = (Math.fround(in1) - Math.fround(in0)) / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const fixed = new Int32Array(outSize * ksize);
  const weights = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      weights[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? weights[x] / ww : weights[x];
      // (int)(±0.5 + k * 2^22): C truncation toward zero.
      fixed[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, fixed };
}

function clip8(sum: number): number {
  // floor(sum / 2^22) with an arithmetic shift, as Pillow (sums stay well inside int32).
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : Math.min(v, 255);
}

/** The common 3-band case, specialised (the horizontal pass dominates the cost). */
function horizontalRgb(
  data: Uint8Array,
  width: number,
  rowOffset: number,
  outHeight: number,
  outWidth: number,
  c: Coefficients,
  out: Uint8Array,
): void {
  const { bounds, fixed, ksize } = c;
  let o = 0;
  for (let yy = 0; yy < outHeight; yy++) {
    const rowBase = (yy + rowOffset) * width * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const count = bounds[xx * 2 + 1];
      let k = xx * ksize;
      const kEnd = k + count;
      let p = rowBase + bounds[xx * 2] * 3;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (; k < kEnd; k++, p += 3) {
        const w = fixed[k];
        s0 += data[p] * w;
        s1 += data[p + 1] * w;
        s2 += data[p + 2] * w;
      }
      out[o++] = clip8(s0);
      out[o++] = clip8(s1);
      out[o++] = clip8(s2);
    }
  }
}

function horizontalPass(
  src: RawImage,
  rowOffset: number,
  outHeight: number,
  outWidth: number,
  c: Coefficients,
): RawImage {
  const { channels, width, data } = src;
  const { bounds, fixed, ksize } = c;
  const out = new Uint8Array(outWidth * outHeight * channels);
  if (channels === 3) {
    horizontalRgb(data, width, rowOffset, outHeight, outWidth, c, out);
    return { data: out, width: outWidth, height: outHeight, channels };
  }
  // One pass over the taps accumulates every band (as Pillow does for multi-band images).
  for (let yy = 0; yy < outHeight; yy++) {
    const rowBase = (yy + rowOffset) * width * channels;
    let o = yy * outWidth * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      const count = bounds[xx * 2 + 1];
      const kBase = xx * ksize;
      let p = rowBase + bounds[xx * 2] * channels;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      for (let x = 0; x < count; x++, p += channels) {
        const k = fixed[kBase + x];
        s0 += data[p] * k;
        if (channels > 1) {
          s1 += data[p + 1] * k;
          if (channels > 2) {
            s2 += data[p + 2] * k;
            if (channels > 3) s3 += data[p + 3] * k;
          }
        }
      }
      out[o++] = clip8(s0);
      if (channels > 1) out[o++] = clip8(s1);
      if (channels > 2) out[o++] = clip8(s2);
      if (channels > 3) out[o++] = clip8(s3);
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}

function verticalPass(src: RawImage, outHeight: number, c: Coefficients): RawImage {
  const { channels, width } = src;
  const stride = width * channels;
  const out = new Uint8Array(stride * outHeight);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = c.bounds[yy * 2];
    const count = c.bounds[yy * 2 + 1];
    const kBase = yy * c.ksize;
    for (let i = 0; i < stride; i++) {
      let sum = HALF;
      let p = ymin * stride + i;
      for (let y = 0; y < count; y++, p += stride) sum += src.data[p] * c.fixed[kBase + y];
      out[yy * stride + i] = clip8(sum);
    }
  }
  return { data: out, width, height: outHeight, channels };
}

/** Pillow `Image.resize((outWidth, outHeight), filter)` on an 8-bit image, box = whole image. */
export function resample(
  image: RawImage,
  outWidth: number,
  outHeight: number,
  filter: ResampleFilter = BICUBIC,
): RawImage {
  const { width, height } = image;
  if (!(outWidth >= 1 && outHeight >= 1)) {
    throw new RangeError(`resample: output size ${outWidth}x${outHeight} must be positive`);
  }
  if (!(image.channels >= 1 && image.channels <= 4)) {
    throw new RangeError(`resample: ${image.channels} channels (1..4 supported)`);
  }
  if (image.data.length !== width * height * image.channels) {
    throw new RangeError(
      `resample: ${image.data.length} bytes do not match ${width}x${height}x${image.channels}`,
    );
  }
  if (outWidth === width && outHeight === height) {
    return { ...image, data: image.data.slice() };
  }
  const vertical = precomputeCoefficients(height, 0, height, outHeight, filter);
  const yFirst = vertical.bounds[0];
  const yLast = vertical.bounds[outHeight * 2 - 2] + vertical.bounds[outHeight * 2 - 1];
  let current = image;
  if (outWidth !== width) {
    const horizontal = precomputeCoefficients(width, 0, width, outWidth, filter);
    for (let i = 0; i < outHeight; i++) vertical.bounds[i * 2] -= yFirst;
    current = horizontalPass(image, yFirst, yLast - yFirst, outWidth, horizontal);
  }
  if (outHeight !== height) current = verticalPass(current, outHeight, vertical);
  return current;
}

/**
 * Pillow's NEAREST resize (used for modes "P" and "1", which `Image.resize` forces to
 * NEAREST): `ImagingScaleAffine` with a[0] = w/outW, a[4] = h/outH, source coordinate
 * accumulated from `0.5 * a` by repeated addition and truncated.
 */
export function resampleNearest(image: RawImage, outWidth: number, outHeight: number): RawImage {
  const { width, height, channels, data } = image;
  const xs = new Int32Array(outWidth);
  const ax = width / outWidth;
  let xo = ax * 0.5;
  for (let x = 0; x < outWidth; x++, xo += ax) xs[x] = Math.min(Math.trunc(xo), width - 1);
  const ay = height / outHeight;
  let yo = ay * 0.5;
  const out = new Uint8Array(outWidth * outHeight * channels);
  for (let y = 0; y < outHeight; y++, yo += ay) {
    const sy = Math.min(Math.trunc(yo), height - 1);
    for (let x = 0; x < outWidth; x++) {
      const s = (sy * width + xs[x]) * channels;
      const d = (y * outWidth + x) * channels;
      for (let ch = 0; ch < channels; ch++) out[d + ch] = data[s + ch];
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}
