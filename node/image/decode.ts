/**
 * Decodes JPEG/PNG/WebP bytes to 8-bit interleaved pixels with sharp (libvips), keeping the
 * pixel values PIL would see: no ICC colour conversion (PIL ignores embedded profiles),
 * first frame only, and the PIL mode (`Image.open`'s) that decides how PIL resizes.
 * Limits are checked from the header before any pixel is decoded.
 */
import type { Sharp, SharpOptions } from "sharp";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { DecodedImage, PilMode } from "./clip-transform.ts";

export type ImageFormat = "jpeg" | "png" | "webp";

export interface DecodeLimits {
  /** Largest encoded image accepted, in bytes. */
  maxBytes: number;
  /** Largest width * height accepted (checked from the header, before decoding). */
  maxPixels: number;
}

export interface DecodeOptions extends DecodeLimits {
  /** Rotate/flip by the EXIF Orientation tag (OpenAI's pipeline does not; default true). */
  applyExifOrientation: boolean;
}

export const DEFAULT_DECODE_OPTIONS: DecodeOptions = {
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 50_000_000,
  applyExifOrientation: true,
};

export type SharpFactory = (input: Uint8Array, options: SharpOptions) => Sharp;

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "jpeg";
  }
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return "png";
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  return undefined;
}

/** PIL's mode for a PNG, from the IHDR colour type and bit depth. */
function pngMode(bytes: Uint8Array, label: string): PilMode {
  if (bytes.length < 29) throw new ClipEdgeError("malformed", `${label}: truncated PNG header`);
  const bitDepth = bytes[24];
  switch (bytes[25]) {
    case 0:
      return bitDepth === 1 ? "1" : "L";
    case 2:
      return "RGB";
    case 3:
      return "P";
    case 4:
      return "LA";
    case 6:
      return "RGBA";
    default:
      throw new ClipEdgeError("malformed", `${label}: PNG colour type ${bytes[25]} is invalid`);
  }
}

function modeFor(
  format: ImageFormat,
  bytes: Uint8Array,
  channels: number,
  hasAlpha: boolean,
  label: string,
): PilMode {
  if (format === "png") return pngMode(bytes, label);
  if (format === "webp") return hasAlpha ? "RGBA" : "RGB";
  return channels === 1 ? "L" : "RGB";
}

/** Channels PIL keeps for a mode (palette images are expanded by the decoder to RGB[A]). */
function keptChannels(mode: PilMode, decoded: number): number {
  if (mode === "1" || mode === "L") return 1;
  if (mode === "LA") return 2;
  if (mode === "RGBA") return 4;
  if (mode === "P") return decoded >= 3 ? 3 : 1;
  return 3;
}

function selectChannels(data: Uint8Array, from: number, to: number): Uint8Array {
  if (from === to) return data;
  const pixels = data.length / from;
  const out = new Uint8Array(pixels * to);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < to; c++) {
      // grey+alpha -> grey, RGB[A] -> first `to` bands; grey -> replicated (never needed for to<from)
      out[p * to + c] = data[p * from + Math.min(c, from - 1)];
    }
  }
  return out;
}

export function createImageDecoder(
  sharpFactory: SharpFactory,
  options: Partial<DecodeOptions> = {},
) {
  const opts: DecodeOptions = { ...DEFAULT_DECODE_OPTIONS, ...options };

  return async function decode(bytes: Uint8Array, label = "image"): Promise<DecodedImage> {
    if (bytes.length > opts.maxBytes) {
      throw new ClipEdgeError(
        "too_large",
        `${label}: ${bytes.length} bytes exceeds the limit of ${opts.maxBytes} bytes`,
        { details: { bytes: bytes.length, maxBytes: opts.maxBytes } },
      );
    }
    const format = sniffFormat(bytes);
    if (!format) {
      throw new ClipEdgeError(
        "unsupported_media_type",
        `${label}: not a JPEG, PNG or WebP image (${bytes.length} bytes)`,
      );
    }
    const sharpOptions: SharpOptions = {
      limitInputPixels: opts.maxPixels,
      ignoreIcc: true,
      failOn: "error",
      autoOrient: opts.applyExifOrientation,
    };
    let meta: Awaited<ReturnType<Sharp["metadata"]>>;
    try {
      // Header only: the pixel limit is checked below with a 413 rather than sharp's error.
      meta = await sharpFactory(bytes, {
        ...sharpOptions,
        autoOrient: false,
        limitInputPixels: false,
      }).metadata();
    } catch (error) {
      throw new ClipEdgeError("malformed", `${label}: cannot read ${format} header`, {
        cause: error,
      });
    }
    const width = meta.width ?? 0;
    const height = meta.height ?? 0;
    if (width * height > opts.maxPixels) {
      throw new ClipEdgeError(
        "too_large",
        `${label}: ${width}x${height} = ${width * height} pixels exceeds the limit of ${opts.maxPixels}`,
        { details: { width, height, maxPixels: opts.maxPixels } },
      );
    }
    if (width < 1 || height < 1) {
      throw new ClipEdgeError(
        "malformed",
        `${label}: ${format} header has size ${width}x${height}`,
      );
    }
    const mode = modeFor(format, bytes, meta.channels ?? 3, meta.hasAlpha ?? false, label);
    let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
    try {
      let pipeline = sharpFactory(bytes, sharpOptions);
      // Greyscale stays one band (libvips would otherwise widen b-w JPEGs to sRGB on output).
      if (mode === "L" || mode === "LA" || mode === "1") pipeline = pipeline.toColourspace("b-w");
      raw = await pipeline.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw new ClipEdgeError(
        "malformed",
        `${label}: cannot decode ${format} (${width}x${height})`,
        {
          cause: error,
        },
      );
    }
    const channels = keptChannels(mode, raw.info.channels);
    const data = selectChannels(
      new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength),
      raw.info.channels,
      channels,
    );
    return { data, width: raw.info.width, height: raw.info.height, channels, mode };
  };
}

export type ImageDecoder = ReturnType<typeof createImageDecoder>;
