/**
 * Which body limit each route gets: the routes that carry images (`/v1/score`, and
 * `/v1/embeddings` with an image input) up to MAX_IMAGE_BODY_BYTES, every other JSON route
 * (and a text-only `/v1/embeddings`) up to MAX_BODY_BYTES.
 */
import type { WorkerLimits } from "../config/limits.ts";
import { LIMIT_VARS } from "../config/limits.ts";
import type { BodyLimit, JsonBodyOptions } from "./json-body.ts";

/** Routes whose body may carry base64 images. */
export const IMAGE_ROUTES: readonly string[] = ["/v1/score", "/v1/embeddings"];

/**
 * POST routes without a JSON body: the batch file upload (multipart, up to
 * MAX_BATCH_FILE_BYTES, checked by its route) and a batch's cancel (no body).
 */
const NOT_JSON_ROUTES: readonly RegExp[] = [/^\/v1\/files$/, /^\/v1\/batches\/[^/]+\/cancel$/];

export function routeBodyLimits(limits: () => WorkerLimits): JsonBodyOptions {
  const text = (): BodyLimit => ({ bytes: limits().maxBodyBytes, name: LIMIT_VARS.maxBodyBytes });
  const image = (): BodyLimit => ({
    bytes: limits().maxImageBodyBytes,
    name: LIMIT_VARS.maxImageBodyBytes,
  });
  return {
    limitOf: (path) => (IMAGE_ROUTES.includes(path) ? image() : text()),
    parsedLimitOf: (path, body) =>
      path === "/v1/embeddings" && !embeddingsCarryImages(body) ? text() : undefined,
    skip: (path) => NOT_JSON_ROUTES.some((route) => route.test(path)),
  };
}

/** Whether a /v1/embeddings body has an image item (`{ image: ... }`) in its `input`. */
export function embeddingsCarryImages(body: unknown): boolean {
  const input = (body as { input?: unknown } | null)?.input;
  const items = Array.isArray(input) ? input : [input];
  return items.some((item) => typeof item === "object" && item !== null && !Array.isArray(item));
}
