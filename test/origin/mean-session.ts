import type { InferenceSessionLike, TensorLike } from "../../conditioning/encoder/session.ts";

/**
 * Test double for the server plumbing (batching, routing, errors): a session whose
 * `image_embeds` are the per-channel means of `pixel_values`. The golden test uses the real
 * vision graph instead.
 */
export function createMeanSession(options: { delayMs?: number; fail?: boolean } = {}) {
  const batchSizes: number[] = [];
  const session: InferenceSessionLike = {
    inputNames: ["pixel_values"],
    outputNames: ["vision_pooled", "image_embeds"],
    async run(feeds) {
      const x = feeds.pixel_values;
      const [n, c, h, w] = x.dims;
      batchSizes.push(n);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.fail) throw new Error("device lost /secret/path");
      const data = x.data as Float32Array;
      const out = new Float32Array(n * c);
      for (let i = 0; i < n * c; i++) {
        let sum = 0;
        for (let j = 0; j < h * w; j++) sum += data[i * h * w + j];
        out[i] = sum / (h * w);
      }
      const tensor: TensorLike = { type: "float32", data: out, dims: [n, c] };
      return { image_embeds: tensor };
    },
  };
  return { session, batchSizes };
}

export const plainTensor = (type: string, data: unknown, dims: readonly number[]): TensorLike => ({
  type,
  data,
  dims,
});
