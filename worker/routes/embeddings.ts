/** POST /v1/embeddings: the OpenAI embeddings API over normalised CLIP text_embeds. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createTextEmbedder } from "../../conditioning/conditioning/text-embedder.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { l2Normalize } from "../../conditioning/scoring/normalize.ts";
import type { AppDeps } from "../app-context.ts";
import { checkPrompts } from "../http/prompt-limits.ts";
import {
  EmbeddingsRequestSchema,
  EmbeddingsResponseSchema,
  errorResponses,
} from "../http/schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/embeddings",
  summary: "OpenAI-compatible embeddings (L2-normalised CLIP text_embeds)",
  request: {
    body: { content: { "application/json": { schema: EmbeddingsRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "Embeddings",
      content: { "application/json": { schema: EmbeddingsResponseSchema } },
    },
    ...errorResponses,
  },
});

export function registerEmbeddings(app: OpenAPIHono, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    checkPrompts(inputs, deps.limits(), "input");
    const modelId = body.model ?? deps.defaultModel();
    const { hash, manifest } = await deps.registry.manifest(modelId);
    const width = manifest.architecture.projectionDim;
    if (body.dimensions !== undefined && width !== undefined && body.dimensions > width) {
      throw new ClipEdgeError(
        "invalid_request",
        `dimensions=${body.dimensions} is more than model ${modelId}'s ${width} embedding dimensions`,
      );
    }
    const canonical = { ...body, input: inputs, model: modelId, user: undefined };
    return deps.cache.respond(
      c,
      { route: "embeddings", modelHashes: [hash], request: canonical },
      async () => {
        const model = await deps.registry.get(modelId);
        const [session, tokenizer] = await Promise.all([model.textSession(), model.tokenizer()]);
        const embedder = createTextEmbedder({
          session,
          tokenizer,
          tensorFactory: model.tensor,
          manifest: model.manifest,
          maxBatch: deps.limits().maxBatchSize,
          id: modelId,
        });
        const { embeddings, tokenCounts } = await embedder.embed(inputs);
        const width = embeddings.shape[1];
        const vectors = inputs.map((_, r) => embeddings.data.subarray(r * width, (r + 1) * width));
        if (body.dimensions !== undefined && body.dimensions > width) {
          throw new ClipEdgeError(
            "invalid_request",
            `dimensions=${body.dimensions} is more than model ${modelId}'s ${width} embedding dimensions`,
          );
        }
        const data = vectors.map((vector, index) => {
          const v =
            body.dimensions !== undefined
              ? l2Normalize(vector.subarray(0, body.dimensions))
              : vector;
          const embedding = body.encoding_format === "base64" ? toBase64(v) : Array.from(v);
          return { object: "embedding" as const, index, embedding };
        });
        // Tokens the graph saw: SOT + up to 75 BPE tokens + EOT.
        const tokens = tokenCounts.reduce((a, b) => a + Math.min(b, 75) + 2, 0);
        return c.json({
          object: "list" as const,
          data,
          model: modelId,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        });
      },
    ) as never;
  });
}

/** Little-endian float32 bytes, base64 (what the OpenAI SDKs decode). */
export function toBase64(vector: Float32Array): string {
  const bytes = new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
