/**
 * POST /v1/score: CLIP scores of images against prompts. Text vectors come from
 * the edge model; image vectors are given (`embedding`) or computed by the
 * origin (`b64`, or `url`, which the worker fetches itself and forwards).
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createTextEmbedder } from "../../conditioning/conditioning/text-embedder.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { decodeBase64 } from "../../conditioning/formats/base64.ts";
import { clipScore, clipScoreAggregate } from "../../conditioning/scoring/clip-score.ts";
import { cosineSimilarity } from "../../conditioning/scoring/normalize.ts";
import { rankPrompts } from "../../conditioning/scoring/ranking.ts";
import type { AppDeps } from "../app-context.ts";
import { checkPrompts } from "../http/prompt-limits.ts";
import { errorResponses, ScoreRequestSchema, ScoreResponseSchema } from "../http/schemas.ts";
import { fetchImage, type OriginImage } from "../origin/index.ts";

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
    const [session, tokenizer] = await Promise.all([model.textSession(), model.tokenizer()]);
    const embedder = createTextEmbedder({
      session,
      tokenizer,
      tensorFactory: model.tensor,
      manifest: model.manifest,
      id: modelId,
    });
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
  images: readonly ({ url: string } | { b64: string } | { embedding: number[] })[],
  deps: AppDeps,
): Promise<ArrayLike<number>[]> {
  const out: (ArrayLike<number> | undefined)[] = images.map((img) =>
    "embedding" in img ? img.embedding : undefined,
  );
  const pending: { index: number; image: OriginImage }[] = [];
  const origin = deps.origin();
  for (const [index, img] of images.entries()) {
    if ("embedding" in img) continue;
    if (!origin) {
      throw new ClipEdgeError(
        "origin_unavailable",
        `images[${index}] needs the image origin, and none is configured (ORIGIN_URL / ORIGIN_SECRET)`,
      );
    }
    if ("b64" in img) {
      pending.push({ index, image: { bytes: decodeBase64(img.b64) } });
    } else {
      const fetched = await fetchImage(img.url, {
        fetch: (input, init) => fetch(input, init),
        maxBytes: deps.limits().maxImageBytes,
        maxRedirects: 3,
        timeoutMs: 10_000,
      });
      pending.push({ index, image: { bytes: fetched.bytes, contentType: fetched.contentType } });
    }
  }
  if (pending.length > 0 && origin) {
    const response = await origin.embedImages(
      pending.map((p) => p.image),
      { normalize: false },
    );
    for (const item of response.data) out[pending[item.index].index] = item.image_embeds;
  }
  return out.map((v, i) => {
    if (!v)
      throw new ClipEdgeError(
        "origin_unavailable",
        `the origin returned no embedding for images[${i}]`,
      );
    return v;
  });
}
