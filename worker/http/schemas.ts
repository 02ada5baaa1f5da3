/**
 * Request and response schemas of the API: one source for validation and for
 * the OpenAPI document at GET /openapi.json.
 */
import { z } from "@hono/zod-openapi";
import { PRESET_NAMES } from "../../conditioning/conditioner/presets.ts";
import {
  ConditioningRequestFields,
  checkConditioningRequest,
} from "../../conditioning/conditioner/request-schema.ts";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi("Error");

const modelId = z.string().min(1).max(128);

export const EmbeddingsRequestSchema = z
  .object({
    input: z
      .union([z.string(), z.array(z.string()).min(1)])
      .openapi({ example: "a photo of a cat" }),
    model: modelId.optional().openapi({ description: "Bundle name (default: DEFAULT_MODEL)" }),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().int().min(1).optional(),
    user: z.string().optional(),
  })
  .openapi("EmbeddingsRequest");

export const EmbeddingsResponseSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        object: z.literal("embedding"),
        index: z.number().int(),
        embedding: z.union([z.array(z.number()), z.string()]),
      }),
    ),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
  })
  .openapi("EmbeddingsResponse");

/**
 * The core's request schema (`conditioning/conditioner/request-schema.ts`: fields, caps and
 * the rules between fields) with the fields this API documents, plus the worker's own.
 */
export const ConditioningRequestSchema = ConditioningRequestFields.pick({
  prompt: true,
  prompts: true,
  negative_prompt: true,
  clip_skip: true,
  weighting: true,
  long_prompt: true,
  num_images_per_prompt: true,
  dtype: true,
})
  .extend({
    model: z
      .union([modelId, z.array(modelId).min(1).max(2)])
      .optional()
      .openapi({ description: "Bundle name(s) in preset order; default from the preset" }),
    preset: z.enum(PRESET_NAMES).optional().openapi({ description: "Default sd15" }),
    format: z.enum(["safetensors", "npy", "npz", "raw", "json", "base64"]).optional().openapi({
      description:
        "Default json. Files: safetensors (all tensors), npy (one tensor), npz, raw (concatenated little-endian tensors; index in X-Tensor-Index)",
    }),
  })
  .superRefine(checkConditioningRequest)
  .openapi("ConditioningRequest");

export const TensorJsonSchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int()),
  data: z.union([z.array(z.number()), z.string()]),
});

export const ConditioningResponseSchema = z
  .object({
    object: z.literal("conditioning"),
    model: z.string(),
    models: z.array(z.object({ id: z.string(), hash: z.string() })),
    tensors: z.record(z.string(), TensorJsonSchema),
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi("ConditioningResponse");

export const TokenizeRequestSchema = z
  .object({
    model: modelId.optional(),
    prompt: z.string(),
    ...ConditioningRequestFields.pick({ weighting: true, long_prompt: true }).shape,
  })
  .openapi("TokenizeRequest");

/** One token of a tokenization (ids, weight, where it came from). */
export const TokenSchema = z.object({
  id: z.number().int(),
  token: z.string(),
  weight: z.number(),
  fragment: z.number().int(),
  chunk: z.number().int(),
  start: z.number().int().optional(),
  end: z.number().int().optional(),
});

export const TokenizeResponseSchema = z
  .object({
    object: z.literal("tokenization"),
    model: z.string(),
    weighting: z.string(),
    fragments: z.array(z.object({ text: z.string(), weight: z.number() })),
    tokens: z.array(TokenSchema),
    chunks: z.array(
      z.object({
        ids: z.array(z.number().int()),
        weights: z.array(z.number()),
        token_count: z.number().int(),
      }),
    ),
    token_count: z.number().int(),
    window: z.number().int(),
    chunk_count: z.number().int(),
    truncated: z.boolean(),
    dropped_tokens: z.number().int(),
    dropped_text: z.string(),
  })
  .openapi("TokenizeResponse");

export const ModelSchema = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    owned_by: z.string(),
    hash: z.string().optional(),
    presets: z.array(z.string()).openapi({
      description:
        "Presets this model serves alone, or in its role of the PRESET_MODELS pair (sdxl)",
    }),
    embedding_inputs: z.array(z.enum(["text", "token_ids", "image"])).openapi({
      description: "What /v1/embeddings embeds with this model (image: only with an origin)",
    }),
    dims: z.record(z.string(), z.number()),
    quantization: z.array(z.string()),
    serves: z.array(z.string()).openapi({
      description: "Routes this model serves here (/v1/score only with an origin)",
    }),
    /** Measured accuracy of the quantised text graph against fp32 (from the manifest's report). */
    accuracy: z
      .object({
        quantization: z.string(),
        token_cosine_min: z.number(),
        token_cosine_mean: z.number(),
        text_embeds_cosine_min: z.number().optional(),
        guard: z
          .object({
            calibration_prompts: z.number(),
            token_cosine_min: z.number(),
            embeds_cosine_min: z.number(),
            targets_met: z.boolean(),
            fp32_linears: z.number(),
            linears: z.number(),
          })
          .optional(),
      })
      .optional(),
    error: z.string().optional(),
  })
  .openapi("Model");

export const ModelsResponseSchema = z
  .object({ object: z.literal("list"), data: z.array(ModelSchema) })
  .openapi("ModelsResponse");

export const errorResponses = {
  400: { description: "Malformed JSON", content: { "application/json": { schema: ErrorSchema } } },
  401: {
    description: "Missing or wrong API key",
    content: { "application/json": { schema: ErrorSchema } },
  },
  404: { description: "Unknown model", content: { "application/json": { schema: ErrorSchema } } },
  413: {
    description:
      "Over a limit (`too_large`, the message names it): body (MAX_BODY_BYTES; MAX_IMAGE_BODY_BYTES on image routes), prompt length or count, image bytes (MAX_IMAGE_BYTES)",
    content: { "application/json": { schema: ErrorSchema } },
  },
  415: {
    description: "Not application/json",
    content: { "application/json": { schema: ErrorSchema } },
  },
  422: {
    description:
      "Valid JSON, but a value is wrong or cannot be served: `invalid_request` (fails the schema, or the model cannot serve it), `invalid_input` (a value out of range, e.g. a token id outside the vocabulary or a sequence over 75 tokens), `unsupported` (a feature the model lacks)",
    content: {
      "application/json": {
        schema: ErrorSchema,
        examples: {
          invalid_request: {
            value: {
              error: { code: "invalid_request", message: "invalid request: input: Invalid input" },
            },
          },
          invalid_input: {
            value: {
              error: {
                code: "invalid_input",
                message:
                  "input[0][3] = 50000 is not a token id of model clip-vit-large-patch14 (an integer from 0 to 49407)",
                details: { vocabSize: 49408 },
              },
            },
          },
        },
      },
    },
  },
  503: {
    description: "Model unavailable",
    content: { "application/json": { schema: ErrorSchema } },
  },
} as const;

export const ScoreImageSchema = z.union([
  z.object({ url: z.string().url() }).strict(),
  z.object({ b64: z.string().min(1) }).strict(),
  z.object({ embedding: z.array(z.number()).min(1) }).strict(),
  z
    .object({ file_id: z.string().min(1) })
    .strict()
    .openapi({ description: "An image uploaded with POST /v1/files (purpose vision)" }),
]);

export const ScoreRequestSchema = z
  .object({
    model: modelId.optional(),
    images: z.array(ScoreImageSchema).min(1),
    prompts: z.array(z.string()).min(1),
    mode: z.enum(["clip_score", "rank"]).optional(),
  })
  .openapi("ScoreRequest");

export const ScoreResponseSchema = z
  .object({
    object: z.literal("score"),
    model: z.string(),
    mode: z.enum(["clip_score", "rank"]),
    scores: z
      .array(z.array(z.number()))
      .openapi({ description: "[image][prompt] CLIP score 100*max(cos,0)" }),
    images: z.array(
      z.object({
        index: z.number().int(),
        best_prompt: z.number().int(),
        cosines: z.array(z.number()),
        probabilities: z.array(z.number()).optional(),
      }),
    ),
    aggregate: z.object({ clip_score: z.number(), pairs: z.enum(["diagonal", "all"]) }),
  })
  .openapi("ScoreResponse");
