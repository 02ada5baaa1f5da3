/**
 * GET /v1/models: OpenAI-style list of the bundles in the MODELS bucket, and GET
 * /v1/models/{id} (OpenAI's `models.retrieve`): what each model can really serve here.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import type { AppDeps } from "../app-deps.ts";
import { errorResponses, ModelSchema, ModelsResponseSchema } from "../http/schemas.ts";
import { type ModelServing, type ServedByModel, servedByModel } from "./model-serving.ts";

const route = createRoute({
  method: "get",
  path: "/v1/models",
  summary: "Models in the MODELS bucket and what each can serve",
  responses: {
    200: {
      description: "Models",
      content: { "application/json": { schema: ModelsResponseSchema } },
    },
    401: errorResponses[401],
    503: errorResponses[503],
  },
});

const retrieveRoute = createRoute({
  method: "get",
  path: "/v1/models/{id}",
  summary: "One model of the MODELS bucket and what it can serve (OpenAI models.retrieve)",
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .openapi({ param: { name: "id", in: "path" }, example: "clip-vit-large-patch14" }),
    }),
  },
  responses: {
    200: { description: "The model", content: { "application/json": { schema: ModelSchema } } },
    401: errorResponses[401],
    404: errorResponses[404],
    503: errorResponses[503],
  },
});

export function describeModel(
  id: string,
  manifest: BundleManifest,
  hash: string,
  serving: ModelServing,
) {
  const text = manifest.graphs.find((g) => g.kind === "text");
  const vision = manifest.graphs.find((g) => g.kind === "vision");
  const dims: Record<string, number> = {};
  if (manifest.architecture.text) dims.text_hidden = manifest.architecture.text.hiddenSize;
  if (manifest.architecture.projectionDim) dims.embedding = manifest.architecture.projectionDim;
  if (manifest.architecture.vision) dims.vision_hidden = manifest.architecture.vision.hiddenSize;
  const { serves, presets, embeddingInputs } = servedByModel(id, manifest, serving);
  return {
    id,
    object: "model" as const,
    ...accuracyOf(manifest, text?.quantization),
    owned_by: manifest.source?.repo ?? "clip-edge",
    hash,
    presets,
    embedding_inputs: embeddingInputs,
    dims,
    quantization: [...new Set<string>([text, vision].filter(Boolean).map((g) => g!.quantization))],
    serves,
  };
}

/** The manifest's quantisation report for the text graph's variant, as /v1/models shows it. */
function accuracyOf(manifest: BundleManifest, quantization: string | undefined) {
  const r = quantization ? manifest.quantizationReport?.[quantization] : undefined;
  if (!quantization || !r) return {};
  const g = r.guard;
  return {
    accuracy: {
      quantization,
      token_cosine_min: r.tokenCosineMin,
      token_cosine_mean: r.tokenCosineMean,
      ...(r.textEmbedsCosineMin !== undefined
        ? { text_embeds_cosine_min: r.textEmbedsCosineMin }
        : {}),
      ...(g
        ? {
            guard: {
              calibration_prompts: g.calibration.prompts,
              token_cosine_min: g.achieved.tokenCosineMin,
              embeds_cosine_min: g.achieved.embedsCosineMin,
              targets_met: g.met,
              fp32_linears: g.fp32Linears,
              linears: Object.keys(g.plan).length,
            },
          }
        : {}),
    },
  };
}

export function registerModels(app: OpenAPIHono, deps: AppDeps): void {
  const serving = (): ModelServing => ({
    presetModels: deps.presetModels,
    originConfigured: deps.origin() !== undefined,
  });
  app.openapi(route, async (c) => {
    const ids = await deps.registry.list();
    const data = await Promise.all(
      ids.map(async (id) => {
        try {
          const { manifest, hash } = await deps.registry.manifest(id);
          return describeModel(id, manifest, hash, serving());
        } catch (error) {
          return {
            id,
            object: "model" as const,
            owned_by: "clip-edge",
            presets: [] as string[],
            embedding_inputs: [] as ServedByModel["embeddingInputs"],
            dims: {} as Record<string, number>,
            quantization: [] as string[],
            serves: [] as string[],
            error: (error as Error).message,
          };
        }
      }),
    );
    return c.json({ object: "list" as const, data }, 200);
  });
  app.openapi(retrieveRoute, async (c) => {
    const { id } = c.req.valid("param");
    // An unknown id: 404 not_found from the registry, naming the id.
    const { manifest, hash } = await deps.registry.manifest(id);
    return c.json(describeModel(id, manifest, hash, serving()), 200);
  });
}
