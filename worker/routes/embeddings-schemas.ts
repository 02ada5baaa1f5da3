/**
 * The /v1/embeddings request: OpenAI's shape (`input` a string or strings), extended with
 * image items `{ "image": { "b64": "..." } }` or `{ "image": { "url": "..." } }` that the origin
 * embeds. Text-only requests are unchanged.
 */
import { z } from "@hono/zod-openapi";
import { EmbeddingsRequestSchema } from "../http/schemas.ts";

export const EmbeddingImageInputSchema = z
  .object({
    image: z.union([
      z
        .object({ url: z.string().url() })
        .strict()
        .openapi({ description: "Fetched by the worker (http/https, MAX_IMAGE_BYTES)" }),
      z
        .object({ b64: z.string().min(1) })
        .strict()
        .openapi({ description: "JPEG, PNG or WebP bytes, base64 (or a data: URL)" }),
      z
        .object({ file_id: z.string().min(1) })
        .strict()
        .openapi({ description: "An image uploaded with POST /v1/files (purpose vision)" }),
    ]),
  })
  .strict()
  .openapi("EmbeddingImageInput", {
    description: "An image, embedded by the origin: L2-normalised CLIP image_embeds",
  });

/** Token ids of one text (OpenAI's `number[]` input); checked against the model's vocabulary. */
export const TokenIdsSchema = z.array(z.number()).openapi("TokenIds", {
  description:
    "Token ids of one text as the model's tokenizer gives them, with or without the start (49406) and end (49407) tokens: integers below the vocabulary size, at most 75 besides start/end",
  example: [49406, 320, 1125, 539, 320, 2368, 49407],
});

export type EmbeddingInputItem = string | z.infer<typeof EmbeddingImageInputSchema>;

export const EmbeddingsWithImagesRequestSchema = EmbeddingsRequestSchema.extend({
  input: z
    .union([
      z.string(),
      EmbeddingImageInputSchema,
      z.array(z.union([z.string(), EmbeddingImageInputSchema])).min(1),
      TokenIdsSchema.min(1),
      z.array(TokenIdsSchema).min(1),
    ])
    .openapi({
      description:
        "Text (OpenAI), token ids (OpenAI's `number[]` / `number[][]`), or images as `{ image: { b64 } }` / `{ image: { url } }`, alone or mixed with texts in one array",
      example: ["a photo of a cat", { image: { url: "https://example.com/cat.png" } }],
    }),
}).openapi("EmbeddingsRequest");
