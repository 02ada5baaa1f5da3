/**
 * POST /v1/embeddings: the OpenAI embeddings API over normalised CLIP text_embeds, plus
 * image items (`{ image: { b64 | url } }`) embedded by the origin (normalised image_embeds).
 */

import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TextEmbeddings } from "../../conditioning/conditioner/text-embedder.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { encodeBase64 } from "../../conditioning/formats/base64.ts";
import { l2Normalize } from "../../conditioning/scoring/normalize.ts";
import type { AppDeps } from "../app-deps.ts";
import { checkPrompts } from "../http/prompt-limits.ts";
import { EmbeddingsResponseSchema, errorResponses } from "../http/schemas.ts";
import type { LoadedModel } from "../models/model-registry.ts";
import { embedImageInputs } from "../origin-client/embed-image-inputs.ts";
import {
  type EmbeddingInputItem,
  EmbeddingsWithImagesRequestSchema,
} from "./embeddings-schemas.ts";
import { modelTextEmbedder } from "./model-text-embedder.ts";
import { checkTokenIds, tokenIdSequences } from "./token-id-input.ts";

const route = createRoute({
  method: "post",
  path: "/v1/embeddings",
  summary: "OpenAI-compatible embeddings (L2-normalised CLIP text_embeds or image_embeds)",
  request: {
    body: {
      content: { "application/json": { schema: EmbeddingsWithImagesRequestSchema } },
      required: true,
    },
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
    const tokenIds = tokenIdSequences(body.input);
    if (tokenIds) return embedTokenIdInput(c, body, tokenIds, deps) as never;
    const input = body.input as string | EmbeddingInputItem | EmbeddingInputItem[];
    const items: EmbeddingInputItem[] = Array.isArray(input) ? input : [input];
    const texts = items.filter((item): item is string => typeof item === "string");
    // Texts at their own indices: an image counts against MAX_PROMPTS like a prompt.
    checkPrompts(
      items.map((item) => (typeof item === "string" ? item : "")),
      deps.limits(),
      "input",
    );
    const modelId = body.model ?? deps.defaultModel();
    const { hash, manifest } = await deps.registry.manifest(modelId);
    const width = manifest.architecture.projectionDim;
    if (body.dimensions !== undefined && width !== undefined && body.dimensions > width) {
      throw new ClipEdgeError(
        "invalid_request",
        `dimensions=${body.dimensions} is more than model ${modelId}'s ${width} embedding dimensions`,
      );
    }
    if (texts.length < items.length) {
      return c.json(await embedMixed(items, body, modelId, deps), 200);
    }
    return respondCached(c, deps, { body, input: texts, modelId, hash }, async (model) => {
      const embedder = await modelTextEmbedder(model, deps);
      return embedder.embed(texts);
    }) as never;
  });
}

type EmbeddingsBody = OutputOptions & { input: unknown; model?: string; user?: string };

/** `input` as token ids (`number[]` or `number[][]`): checked, then embedded like texts. */
async function embedTokenIdInput(
  c: Context,
  body: EmbeddingsBody,
  sequences: unknown[][],
  deps: AppDeps,
): Promise<Response> {
  checkPrompts(
    sequences.map(() => ""),
    deps.limits(),
    "input",
  );
  const modelId = body.model ?? deps.defaultModel();
  const { hash, manifest } = await deps.registry.manifest(modelId);
  const vocabSize = manifest.architecture.text?.vocabSize;
  if (vocabSize === undefined) {
    throw new ClipEdgeError("invalid_request", `model ${modelId} has no text tower`);
  }
  const ids = checkTokenIds(sequences, {
    vocabSize,
    model: modelId,
    nested: Array.isArray(body.input) && Array.isArray(body.input[0]),
  });
  return respondCached(c, deps, { body, input: ids, modelId, hash }, async (model) =>
    (await modelTextEmbedder(model, deps)).embedIds(ids),
  );
}

/** The OpenAI list of the text (or token-id) inputs' vectors, through the response cache. */
function respondCached(
  c: Context,
  deps: AppDeps,
  request: { body: EmbeddingsBody; input: unknown[]; modelId: string; hash: string },
  embed: (model: LoadedModel) => Promise<TextEmbeddings>,
): Promise<Response> {
  const { body, modelId } = request;
  const canonical = { ...body, input: request.input, model: modelId, user: undefined };
  return deps.cache.respond(
    c,
    { route: "embeddings", modelHashes: [request.hash], request: canonical },
    async () => {
      const model = await deps.registry.get(modelId);
      const { embeddings, tokenCounts } = await embed(model);
      const width = embeddings.shape[1];
      const vectors = request.input.map((_, r) =>
        embeddings.data.subarray(r * width, (r + 1) * width),
      );
      if (body.dimensions !== undefined && body.dimensions > width) {
        throw new ClipEdgeError(
          "invalid_request",
          `dimensions=${body.dimensions} is more than model ${modelId}'s ${width} embedding dimensions`,
        );
      }
      const data = vectors.map((vector, index) => embeddingItem(vector, index, body));
      // Tokens the graph saw: SOT + up to 75 BPE tokens + EOT.
      const tokens = tokenCounts.reduce((a, b) => a + Math.min(b, 75) + 2, 0);
      return c.json({
        object: "list" as const,
        data,
        model: modelId,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    },
  );
}

interface OutputOptions {
  dimensions?: number;
  encoding_format?: "float" | "base64";
}

function embeddingItem(vector: Float32Array, index: number, options: OutputOptions) {
  const v =
    options.dimensions !== undefined ? l2Normalize(vector.subarray(0, options.dimensions)) : vector;
  const embedding = options.encoding_format === "base64" ? toBase64(v) : Array.from(v);
  return { object: "embedding" as const, index, embedding };
}

/**
 * Inputs with images: texts on the edge model, images on the origin (never cached: a URL's
 * bytes may change, and the answer depends on the origin being up).
 */
async function embedMixed(
  items: readonly EmbeddingInputItem[],
  options: OutputOptions,
  modelId: string,
  deps: AppDeps,
) {
  const textAt = items.flatMap((item, i) => (typeof item === "string" ? [i] : []));
  const imageAt = items.flatMap((item, i) => (typeof item === "string" ? [] : [i]));
  const images = imageAt.map((i) => (items[i] as Exclude<EmbeddingInputItem, string>).image);
  const model = await deps.registry.get(modelId);
  const [imageVectors, text] = await Promise.all([
    embedImageInputs(images, deps, {
      normalize: true,
      label: (k) => `input[${imageAt[k]}].image`,
    }),
    textAt.length === 0
      ? undefined
      : (async () => {
          const embedder = await modelTextEmbedder(model, deps);
          return embedder.embed(textAt.map((i) => items[i] as string));
        })(),
  ]);
  const vectors: Float32Array[] = new Array(items.length);
  imageAt.forEach((at, k) => {
    vectors[at] = Float32Array.from(imageVectors[k]);
  });
  if (text) {
    const width = text.embeddings.shape[1];
    textAt.forEach((at, r) => {
      vectors[at] = text.embeddings.data.subarray(r * width, (r + 1) * width);
    });
  }
  const width = vectors[0].length;
  vectors.forEach((v, i) => {
    if (v.length !== width) {
      throw new ClipEdgeError(
        "unavailable",
        `input[${i}] embeds to ${v.length} dimensions, input[0] to ${width}: the origin serves a different model than ${modelId}`,
      );
    }
  });
  if (options.dimensions !== undefined && options.dimensions > width) {
    throw new ClipEdgeError(
      "invalid_request",
      `dimensions=${options.dimensions} is more than model ${modelId}'s ${width} embedding dimensions`,
    );
  }
  const tokens = (text?.tokenCounts ?? []).reduce((a, b) => a + Math.min(b, 75) + 2, 0);
  return {
    object: "list" as const,
    data: vectors.map((vector, index) => embeddingItem(vector, index, options)),
    model: modelId,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** Little-endian float32 bytes, base64 (what the OpenAI SDKs decode). */
export function toBase64(vector: Float32Array): string {
  return encodeBase64(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
}
