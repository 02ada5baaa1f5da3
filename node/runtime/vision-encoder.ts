/**
 * Runs a batch of preprocessed images through the bundle's vision graph
 * (input `pixel_values` float32 [n, 3, H, W] -> output `image_embeds` float32 [n, E]).
 */
import type { InferenceSessionLike, TensorFactory } from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface VisionEncoderOptions {
  session: InferenceSessionLike;
  tensor: TensorFactory;
  /** [channels, height, width] of one image. */
  imageShape: readonly [number, number, number];
  label?: string;
}

export interface VisionEncoder {
  readonly imageSize: number;
  /** One Float32Array of embeddings per input image. */
  encode(images: readonly Float32Array[]): Promise<Float32Array[]>;
}

export function createVisionEncoder(options: VisionEncoderOptions): VisionEncoder {
  const { session, tensor, imageShape } = options;
  const label = options.label ?? "vision graph";
  for (const name of ["pixel_values"]) {
    if (!session.inputNames.includes(name)) {
      throw new ClipEdgeError(
        "invalid_input",
        `${label}: has inputs [${session.inputNames.join(", ")}], expected "${name}"`,
      );
    }
  }
  if (!session.outputNames.includes("image_embeds")) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: has outputs [${session.outputNames.join(", ")}], expected "image_embeds"`,
    );
  }
  const imageSize = imageShape[0] * imageShape[1] * imageShape[2];
  return {
    imageSize,
    async encode(images) {
      const n = images.length;
      const batch = new Float32Array(n * imageSize);
      images.forEach((image, i) => {
        if (image.length !== imageSize) {
          throw new ClipEdgeError(
            "internal",
            `${label}: image ${i} has ${image.length} values, expected ${imageSize} (${imageShape.join("x")})`,
          );
        }
        batch.set(image, i * imageSize);
      });
      const outputs = await session.run(
        { pixel_values: tensor("float32", batch, [n, ...imageShape]) },
        ["image_embeds"],
      );
      const embeds = outputs.image_embeds;
      const data = embeds?.data;
      if (!(data instanceof Float32Array) || embeds.dims.length !== 2 || embeds.dims[0] !== n) {
        throw new ClipEdgeError(
          "internal",
          `${label}: image_embeds came back as ${embeds?.type}[${embeds?.dims?.join(",")}] for a batch of ${n}`,
        );
      }
      const dim = embeds.dims[1];
      return Array.from({ length: n }, (_, i) => data.slice(i * dim, (i + 1) * dim));
    },
  };
}

export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  return norm > 0 ? vector.map((v) => v / norm) : vector.slice();
}
