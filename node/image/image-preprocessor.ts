/**
 * Bytes -> CLIP pixel values: decode (sharp, PIL-equivalent pixels) then OpenAI's transform.
 */
import { clipTransform, type DecodedImage } from "./clip-transform.ts";
import type { PreprocessorConfig } from "./config.ts";
import { createImageDecoder, type DecodeOptions, type SharpFactory } from "./decode.ts";

export interface ImagePreprocessorOptions {
  sharp: SharpFactory;
  config: PreprocessorConfig;
  decode?: Partial<DecodeOptions>;
  /** Runs the resize/crop/normalise elsewhere (a worker-thread pool); default inline. */
  transform?: (image: DecodedImage, config: PreprocessorConfig) => Promise<Float32Array>;
}

export interface ImagePreprocessor {
  readonly config: PreprocessorConfig;
  /** Values per image: 3 * crop height * crop width. */
  readonly imageSize: number;
  /** Decodes and transforms; writes CHW float32 into `out` at `offset` when given. */
  preprocess(
    bytes: Uint8Array,
    options?: { label?: string; out?: Float32Array; offset?: number },
  ): Promise<Float32Array>;
}

export function createImagePreprocessor(options: ImagePreprocessorOptions): ImagePreprocessor {
  const decode = createImageDecoder(options.sharp, options.decode);
  const { config } = options;
  return {
    config,
    imageSize: 3 * config.cropSize.height * config.cropSize.width,
    async preprocess(bytes, { label = "image", out, offset = 0 } = {}) {
      const image = await decode(bytes, label);
      if (!options.transform) return clipTransform(image, config, out, offset);
      const values = await options.transform(image, config);
      if (!out) return values;
      out.set(values, offset);
      return out;
    },
  };
}
