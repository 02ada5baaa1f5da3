/** What the routes of the app share: per-isolate state and per-deployment settings. */
import type { BatchDeps } from "./batch/batch-store.ts";
import type { WorkerLimits } from "./config/limits.ts";
import type { ResponseCache } from "./http/response-cache.ts";
import type { ModelRegistry } from "./models/model-registry.ts";
import type { OriginClient } from "./origin-client/index.ts";

export interface AppDeps {
  registry: ModelRegistry;
  cache: ResponseCache;
  limits: () => WorkerLimits;
  /** Model served when a request names none. */
  defaultModel: () => string;
  /** Model ids per preset (from the PRESET_MODELS var), else [defaultModel]. */
  presetModels: (preset: string) => string[] | undefined;
  authEnabled: () => boolean;
  /** The image / big-encoder origin, when ORIGIN_URL and ORIGIN_SECRET are set. */
  origin: () => OriginClient | undefined;
  /** The batch API's bucket, queue and Durable Objects (503 on its routes when undefined). */
  batch?: () => BatchDeps | undefined;
}
