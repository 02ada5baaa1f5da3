/**
 * Worker entry: one app per isolate, created on the first request (never at
 * start-up), with onnxruntime-web loaded only when a session is first needed.
 * `queue()` consumes the batch API's chunks through that same app (in-process
 * requests to the online routes); BatchObject is the batch's Durable Object.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { batchDepsOf, createWorkerApp, type WorkerEnv } from "./app-from-env.ts";
import type { ChunkMessage } from "./batch/batch-store.ts";
import { consumeChunks } from "./batch/queue-consumer.ts";
import { readLimits } from "./config/limits.ts";
import { parseApiKeys } from "./http/auth.ts";
import { createWorkerOrtRuntime } from "./runtime/ort-wasm.ts";

export { BatchObject } from "./batch/batch-object.ts";

let app: OpenAPIHono | undefined;

const appOf = (env: Env) =>
  (app ??= createWorkerApp({ env: env as WorkerEnv, runtime: createWorkerOrtRuntime }));

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    return appOf(env).fetch(request, env, ctx);
  },

  async queue(batch: MessageBatch<ChunkMessage>, env: Env, ctx: ExecutionContext): Promise<void> {
    const online = appOf(env);
    const deps = batchDepsOf(env as WorkerEnv);
    if (!deps) throw new Error("queue(): the BATCHES, BATCH_QUEUE and BATCH bindings are missing");
    const key = parseApiKeys((env as WorkerEnv).API_KEYS)[0];
    await consumeChunks(batch, {
      deps,
      limits: readLimits(env as WorkerEnv),
      fetch: (request) => online.fetch(request, env, ctx),
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
  },
} satisfies ExportedHandler<Env, ChunkMessage>;
