/**
 * POST /v1/score: CLIP scores of images against prompts. Text vectors come from
 * the edge model; image vectors are given (`embedding`) or computed by the
 * origin (`b64`, or `url`, which the worker fetches itself and forwards).
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { clipScore, clipScoreAggregate } from "../../conditioning/scoring/clip-score.ts";
import { cosineSimilarity } from "../../conditioning/scoring/normalize.ts";
import { rankPrompts } from "../../conditioning/scoring/ranking.ts";
import type { AppDeps } from "../app-deps.ts";
import { checkPrompts } from "../http/prompt-limits.ts";
import { errorResponses, ScoreRequestSchema, ScoreResponseSchema } from "../http/schemas.ts";
import { embedImageInputs, type ImageInput } from "../origin-client/embed-image-inputs.ts";
import { modelTextEmbedder } from "./model-text-embedder.ts";

const route = createRoute({
  method: "post",
  path: "/v1/score",
  summary: "CLIP score / ranking of images against prompts",
  request: {
    body: { content: { "application/json": { schema: ScoreRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "Scores",
      content: { "application/json": { schema: ScoreResponseSchema } },
    },
    ...errorResponses,
  },
});

export function registerScore(app: OpenAPIHono, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const limits = deps.limits();
    checkPrompts(body.prompts, limits, "prompts");
    if (body.images.length > limits.maxPrompts) {
      throw new ClipEdgeError(
        "too_large",
        `images has ${body.images.length} entries, the limit is ${limits.maxPrompts} (MAX_PROMPTS)`,
      );
    }
    const modelId = body.model ?? deps.defaultModel();
    const model = await deps.registry.get(modelId);
    const embedder = await modelTextEmbedder(model, deps);
    const imageEmbeds = await resolveImages(body.images, deps);
    const { embeddings } = await embedder.embed(body.prompts);
    const width = embeddings.shape[1];
    const texts = body.prompts.map((_, i) => embeddings.data.subarray(i * width, (i + 1) * width));
    imageEmbeds.forEach((v, i) => {
      if (v.length !== width) {
        throw new ClipEdgeError(
          "invalid_request",
          `images[${i}] has ${v.length} dimensions, model ${modelId}'s text_embeds have ${width}`,
        );
      }
    });
    const mode = body.mode ?? "clip_score";
    const logitScale = model.manifest.architecture.logitScale ?? Math.log(100);
    const scores = imageEmbeds.map((img) => texts.map((t) => clipScore(img, t)));
    const images = imageEmbeds.map((img, index) => {
      const cosines = texts.map((t) => cosineSimilarity(img, t));
      const best = cosines.indexOf(Math.max(...cosines));
      const entry: {
        index: number;
        best_prompt: number;
        cosines: number[];
        probabilities?: number[];
      } = {
        index,
        best_prompt: best,
        cosines,
      };
      if (mode === "rank")
        entry.probabilities = rankPrompts(img, texts, logitScale).map((r) => r.probability);
      return entry;
    });
    const diagonal = imageEmbeds.length === texts.length;
    const pairs = diagonal
      ? imageEmbeds.map((img, i) => ({ imageEmbeds: img, textEmbeds: texts[i] }))
      : imageEmbeds.flatMap((img) => texts.map((t) => ({ imageEmbeds: img, textEmbeds: t })));
    return c.json(
      {
        object: "score" as const,
        model: modelId,
        mode,
        scores,
        images,
        aggregate: {
          clip_score: clipScoreAggregate(pairs),
          pairs: diagonal ? ("diagonal" as const) : ("all" as const),
        },
      },
      200,
    );
  });
}

async function resolveImages(
  images: readonly (ImageInput | { embedding: number[] })[],
  deps: AppDeps,
): Promise<ArrayLike<number>[]> {
  const out: ArrayLike<number>[] = images.map((img) => ("embedding" in img ? img.embedding : []));
  const pending = images.flatMap((img, index) =>
    "embedding" in img ? [] : [{ index, input: img as ImageInput }],
  );
  const embeds = await embedImageInputs(
    pending.map((p) => p.input),
    deps,
    { normalize: false, label: (i) => `images[${pending[i].index}]` },
  );
  embeds.forEach((vector, i) => {
    out[pending[i].index] = vector;
  });
  return out;
}
