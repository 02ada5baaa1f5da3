/**
 * Wires the app to a Workers environment: the MODELS bucket, vars, the
 * API_KEYS secret, the Cache API and the onnxruntime-web runtime. One instance
 * per isolate (sessions live as long as the isolate).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { ClipEdgeError } from "../conditioning/errors.ts";
import { createApp } from "./app.ts";
import type { BatchBucket, BatchDeps, BatchState } from "./batch/batch-store.ts";
import { type LimitVars, readLimits } from "./config/limits.ts";
import { parseApiKeys } from "./http/auth.ts";
import { createResponseCache } from "./http/response-cache.ts";
import { createMemoryBudget } from "./inference/memory-budget.ts";
import { type BucketLike, createBundleStore } from "./models/bundle-store.ts";
import { withDefaultModelUnavailable } from "./models/default-model.ts";
import { createModelRegistry } from "./models/model-registry.ts";
import { createOriginClient, type OriginClient } from "./origin-client/index.ts";
import type { OrtRuntime } from "./runtime/ort-runtime.ts";

/**
 * The generated `Env` (worker-configuration.d.ts from wrangler.toml, `npm run types`) plus
 * what a deployment may add without wrangler.toml naming it: limit overrides (LimitVars),
 * the secrets API_KEYS, ORIGIN_URL, ORIGIN_SECRET and the var PRESET_MODELS. MODELS is
 * widened to the part of R2Bucket the app reads (tests pass a counting wrapper). The batch
 * API's bindings (BATCHES, BATCH_QUEUE, BATCH) are optional: without them its routes answer 503.
 */
export type WorkerEnv = Omit<Env, "MODELS" | "BATCHES" | "BATCH_QUEUE" | "BATCH"> &
  Partial<Pick<Env, "BATCHES" | "BATCH_QUEUE" | "BATCH">> &
  LimitVars & {
    MODELS: BucketLike;
    API_KEYS?: string;
    ORIGIN_URL?: string;
    ORIGIN_SECRET?: string;
    PRESET_MODELS?: string;
  };

export interface WorkerAppOptions {
  env: WorkerEnv;
  /** Creates the isolate's runtime; its heap is capped at `maxHeapBytes` (MEMORY_BUDGET_MB). */
  runtime: (options: { maxHeapBytes: () => number }) => OrtRuntime;
  cache?: () => Cache | undefined;
}

export function createWorkerApp(options: WorkerAppOptions): OpenAPIHono {
  const { env } = options;
  const limits = readLimits(env);
  const keys = parseApiKeys(env.API_KEYS);
  const presets = parsePresetModels(env.PRESET_MODELS);
  const origin: OriginClient | undefined =
    env.ORIGIN_URL && env.ORIGIN_SECRET
      ? createOriginClient({
          baseUrl: env.ORIGIN_URL,
          secret: env.ORIGIN_SECRET,
          fetch: (input, init) => fetch(input, init),
          timeoutMs: limits.originTimeoutMs,
          probeTimeoutMs: limits.originProbeTimeoutMs,
          breaker: { resetMs: limits.originBreakerResetMs },
        })
      : undefined;
  const defaultModel = () => env.DEFAULT_MODEL || "clip-vit-large-patch14";
  const budgetBytes = () => limits.memoryBudgetMb * 1e6;
  const models = createModelRegistry({
    store: createBundleStore({ bucket: env.MODELS }),
    runtime: () => options.runtime({ maxHeapBytes: budgetBytes }),
    memory: createMemoryBudget({ budgetBytes }),
    maxGraphBytes: () => limits.maxGraphBytes,
    rowCacheBytes: () => limits.rowCacheBytes,
    origin: () => origin,
    batch: () => ({
      windowMs: limits.batchWindowMs,
      maxBatch: limits.maxBatchSize,
      maxQueuedRows: limits.maxQueuedRows,
    }),
  });
  const registry = withDefaultModelUnavailable(models, defaultModel);
  const batch = batchDepsOf(env);
  const defaultCache = () =>
    (globalThis as unknown as { caches?: { default?: Cache } }).caches?.default;
  return createApp({
    registry,
    cache: createResponseCache({
      cache: options.cache ?? defaultCache,
      ttlSeconds: () => limits.cacheTtlSeconds,
    }),
    limits: () => limits,
    defaultModel,
    presetModels: (preset) => presets[preset],
    authEnabled: () => keys.length > 0,
    apiKeys: () => keys,
    origin: () => origin,
    batch: () => batch,
  });
}

/** The batch API's deps from the BATCHES bucket, BATCH_QUEUE queue and BATCH Durable Objects. */
export function batchDepsOf(env: WorkerEnv): BatchDeps | undefined {
  const { BATCHES, BATCH_QUEUE, BATCH } = env;
  if (!BATCHES || !BATCH_QUEUE || !BATCH) return undefined;
  return {
    bucket: BATCHES as unknown as BatchBucket,
    queue: BATCH_QUEUE as unknown as BatchDeps["queue"],
    state: (batchId) => BATCH.get(BATCH.idFromName(batchId)) as unknown as BatchState,
  };
}

function parsePresetModels(raw: string | undefined): Record<string, string[]> {
  if (!raw) return {};
  try {
    const value = JSON.parse(raw) as Record<string, string | string[]>;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    );
  } catch (cause) {
    throw new ClipEdgeError(
      "invalid_input",
      `wrangler var PRESET_MODELS must be JSON like {"sdxl": ["clip-l", "clip-bigg"]}, got ${JSON.stringify(raw)}`,
      { cause },
    );
  }
}
