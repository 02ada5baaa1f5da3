/**
 * Worker entry: one app per isolate, created on the first request (never at
 * start-up), with onnxruntime-web loaded only when a session is first needed.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createWorkerApp } from "./app-from-env.ts";
import { createWorkerOrtRuntime } from "./runtime/ort-wasm.ts";

let app: OpenAPIHono | undefined;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    app ??= createWorkerApp({ env, runtime: createWorkerOrtRuntime });
    return app.fetch(request, env, ctx);
  },
};
