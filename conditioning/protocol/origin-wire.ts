/**
 * The worker <-> origin wire protocol (JSON bodies), one zod schema per message, shared by
 * the worker's client (worker/origin-client) and the origin server (origin/server):
 *
 *   GET  /v1/info                 -> OriginInfo
 *   POST /v1/text-embeddings      TextEmbeddingsRequest -> TextEmbeddingsResponse
 *   POST /v1/image-embeddings     multipart images -> ImageEmbeddingsResponse
 *   POST /v1/text-graph/run       TextGraphRunRequest -> TextGraphRunResponse
 *   any error                     ErrorBody (`{ "error": { code, message, details? } }`)
 *
 * Tensors travel as `{ type, dims, data }` with `data` the base64 of the little-endian bytes.
 */
import { z } from "zod";
import { ClipEdgeError, type ClipEdgeErrorCode } from "../errors.ts";

export const WireTensorSchema = z.object({
  type: z.string(),
  dims: z.array(z.number().int().nonnegative()),
  /** Little-endian bytes, base64. */
  data: z.string(),
});
export type WireTensor = z.infer<typeof WireTensorSchema>;

const TextsSchema = z.union([z.string(), z.array(z.string()).min(1)]);

/** `input` (also accepted as `texts` or `prompts`): one text or a non-empty list. */
export const TextEmbeddingsRequestSchema = z
  .object({
    input: TextsSchema.optional(),
    texts: TextsSchema.optional(),
    prompts: TextsSchema.optional(),
    normalize: z.boolean().optional(),
  })
  .refine((o) => (o.input ?? o.texts ?? o.prompts) !== undefined, {
    message: "required: a string or a non-empty array of strings",
    path: ["input"],
  });
export type TextEmbeddingsRequest = z.infer<typeof TextEmbeddingsRequestSchema>;

export const TextEmbeddingsResponseSchema = z.object({
  model: z.string(),
  data: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      text_embeds: z.array(z.number()).optional(),
      pooled: z.array(z.number()).optional(),
      num_tokens: z.number().int(),
      truncated: z.boolean(),
    }),
  ),
});
export type TextEmbeddingsResponse = z.infer<typeof TextEmbeddingsResponseSchema>;

export const ImageEmbeddingsResponseSchema = z.object({
  model: z.string(),
  data: z.array(
    z.object({ index: z.number().int().nonnegative(), image_embeds: z.array(z.number()) }),
  ),
});
export type ImageEmbeddingsResponse = z.infer<typeof ImageEmbeddingsResponseSchema>;

export const OriginInfoSchema = z.object({
  model: z.string(),
  provider: z.string(),
  vision: z.object({ imageSize: z.number().int().positive() }).nullable(),
  text: z.boolean(),
  textGraph: z
    .object({ inputNames: z.array(z.string()), outputNames: z.array(z.string()) })
    .nullable(),
});
export type OriginInfo = z.infer<typeof OriginInfoSchema>;

/** One remote `session.run`: int64 token tensors in, the named float32 outputs back. */
export const TextGraphRunRequestSchema = z.object({
  inputs: z.record(z.string(), WireTensorSchema),
  /** Graph outputs to return (default `["text_embeds"]`). */
  fetches: z.array(z.string()).min(1).optional(),
});
export type TextGraphRunRequest = z.infer<typeof TextGraphRunRequestSchema>;

export const TextGraphRunResponseSchema = z.object({
  model: z.string(),
  outputs: z.record(z.string(), WireTensorSchema),
});
export type TextGraphRunResponse = z.infer<typeof TextGraphRunResponseSchema>;

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * `value` checked against `schema`, or a ClipEdgeError(`code`) that names `label` and
 * every offending field (`inputs.input_ids.dims: expected array`).
 */
export function parseWire<S extends z.ZodType>(
  schema: S,
  value: unknown,
  label: string,
  code: ClipEdgeErrorCode,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`,
  );
  throw new ClipEdgeError(code, `${label}: ${issues.join("; ")}`);
}
