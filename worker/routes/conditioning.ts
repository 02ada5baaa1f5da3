/** POST /v1/conditioning: diffusers-named conditioning tensors for a preset. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { createConditioner } from "../../conditioning/conditioner/conditioner.ts";
import { conditioningMetadataStrings } from "../../conditioning/conditioner/metadata.ts";
import { getPreset } from "../../conditioning/conditioner/presets.ts";
import { REQUEST_DEFAULTS } from "../../conditioning/conditioner/request-schema.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { AppDeps } from "../app-deps.ts";
import { LIMIT_VARS } from "../config/limits.ts";
import { checkPrompts } from "../http/prompt-limits.ts";
import { bytesPerValue } from "../http/response-size.ts";
import {
  ConditioningRequestSchema,
  ConditioningResponseSchema,
  errorResponses,
} from "../http/schemas.ts";
import { tensorResponse } from "../http/tensor-response.ts";

const route = createRoute({
  method: "post",
  path: "/v1/conditioning",
  summary: "Prompt conditioning tensors (prompt_embeds, pooled_prompt_embeds, negatives)",
  request: {
    body: {
      content: { "application/json": { schema: ConditioningRequestSchema } },
      required: true,
    },
  },
  responses: {
    200: {
      description: "Tensors as JSON/base64, or the raw safetensors / npy file",
      content: {
        "application/json": { schema: ConditioningResponseSchema },
        "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
    ...errorResponses,
  },
});

export function registerConditioning(app: OpenAPIHono, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    // The schema (the core's, extended) validated everything; the rest is the core's request.
    const { model, preset: presetName = "sd15", format = "json", ...request } = body;
    const prompts = request.prompts ?? [request.prompt ?? ""];
    const negatives =
      request.negative_prompt === undefined
        ? []
        : typeof request.negative_prompt === "string"
          ? [request.negative_prompt]
          : request.negative_prompt;
    checkPrompts([...prompts, ...negatives], deps.limits(), "prompts");
    const preset = getPreset(presetName);
    const modelIds =
      model === undefined
        ? (deps.presetModels(presetName) ?? [deps.defaultModel()])
        : typeof model === "string"
          ? [model]
          : model;
    if (modelIds.length !== preset.encoders.length) {
      throw new ClipEdgeError(
        "invalid_request",
        `preset ${presetName} needs ${preset.encoders.length} model(s) (${preset.encoders.map((e) => e.role).join(", ")}), got ${modelIds.length}: ${modelIds.join(", ")}`,
      );
    }
    const manifests = await Promise.all(modelIds.map((id) => deps.registry.manifest(id)));
    const dtype = request.dtype ?? REQUEST_DEFAULTS.dtype;
    const canonical = { ...body, model: modelIds, preset: presetName, format, dtype };
    return deps.cache.respond(
      c,
      { route: "conditioning", modelHashes: manifests.map((m) => m.hash), request: canonical },
      async () => {
        const models = await Promise.all(modelIds.map((id) => deps.registry.get(id)));
        const encoders = await Promise.all(
          models.map(async (model) => ({
            id: model.id,
            hash: model.hash,
            session: await model.textSession(),
            tokenizer: await model.tokenizer(),
            manifest: model.manifest,
          })),
        );
        const limits = deps.limits();
        const conditioner = createConditioner({
          preset,
          encoders,
          tensorFactory: models[0].tensor,
          maxBatch: limits.maxBatchSize,
          maxChunks: limits.maxChunks,
          maxConditionings: limits.maxConditionings,
          limits: {
            maxImagesPerPrompt: limits.maxImagesPerPrompt,
            maxEncodeTokens: limits.maxEncodeTokens,
            maxOutputValues: limits.maxOutputValues,
            maxOutputBytes: limits.maxOutputBytes,
            outputBytesPerValue: bytesPerValue(format, dtype),
            limitNames: LIMIT_VARS,
          },
        });
        const result = await conditioner.encode(request);
        const tokenCounts = result.metadata.prompts.map((p) => p.tokenCount);
        const main = result.tensors.prompt_embeds
          ? "prompt_embeds"
          : Object.keys(result.tensors)[0];
        return tensorResponse(result.tensors, {
          format,
          dtype,
          npyTensor: main,
          metadata: conditioningMetadataStrings(result.metadata),
          fields: {
            object: "conditioning",
            model: modelIds.join("+"),
            models: models.map((m) => ({ id: m.id, hash: m.hash })),
            metadata: result.metadata,
          },
          headers: {
            "X-Model": modelIds.join(","),
            "X-Model-Hash": models.map((m) => m.hash).join(","),
            "X-Token-Counts": tokenCounts.join(","),
            "X-Truncated": result.metadata.prompts.map((p) => (p.truncated ? 1 : 0)).join(","),
          },
        });
      },
    ) as never;
  });
}
