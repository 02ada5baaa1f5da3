/**
 * GET /healthz (alive, no I/O) and GET /readyz (the default model's tokenizer
 * and text session load; reports whether auth is on, per-session run stats and
 * the isolate's WASM heap). Both are open paths (no key needed, for probes); with API keys
 * configured, /readyz without a valid key says only status, model and auth: the model
 * hash, load time, session stats, heap and error message need a key.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app-deps.ts";
import { hasApiKey } from "../http/auth.ts";
import { ErrorSchema } from "../http/schemas.ts";

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness",
  responses: {
    200: {
      description: "Alive",
      content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
    },
  },
});

const ReadySchema = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    model: z.string(),
    hash: z.string().optional(),
    auth: z.enum(["api_keys", "open"]),
    load_ms: z.number().optional(),
    sessions: z
      .array(
        z.object({
          model: z.string(),
          graph: z.string(),
          runs_on: z.enum(["edge", "origin"]),
          runs: z.number().int(),
          requests: z.number().int(),
          largest_batch: z.number().int(),
          allocation_failures: z.number().int(),
          refused: z.number().int(),
          row_cache: z
            .object({
              hits: z.number().int(),
              misses: z.number().int(),
              rows: z.number().int(),
              bytes: z.number().int(),
              evictions: z.number().int(),
            })
            .optional()
            .openapi({ description: "Encoded rows kept by this session (ROW_CACHE_BYTES)" }),
        }),
      )
      .optional()
      .openapi({ description: "Absent without a key when API keys are configured" }),
    wasm_heap: z
      .object({
        bytes: z.number().int().openapi({ description: "WASM heap size now (it never shrinks)" }),
        growth: z.enum(["tight", "emscripten"]),
        declined_grows: z.number().int(),
        capped_grows: z.number().int().openapi({
          description: "Growths declined because the heap would pass MEMORY_BUDGET_MB",
        }),
      })
      .optional()
      .openapi({ description: "onnxruntime-web's heap in this isolate, once a graph is loaded" }),
    memory: z
      .object({
        budget_bytes: z
          .number()
          .int()
          .openapi({ description: "MEMORY_BUDGET_MB x 1e6: the heap's cap" }),
        plan_bytes: z
          .number()
          .int()
          .openapi({ description: "What loads and runs are planned within (budget / 1.05)" }),
        estimated_bytes: z
          .number()
          .int()
          .openapi({ description: "Runtime + loaded graphs + runs in progress" }),
        runtime_bytes: z.number().int(),
        running_bytes: z.number().int(),
        evictions: z.number().int(),
        graphs: z.array(
          z.object({
            graph: z.string(),
            load_bytes: z.number().int(),
            token_bytes: z.number().int(),
            source: z.string(),
          }),
        ),
      })
      .optional()
      .openapi({
        description: 'The isolate\'s memory budget and its use (docs/worker.md "Memory model")',
      }),
    error: ErrorSchema.shape.error.optional(),
  })
  .openapi("Readiness");

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  summary: "Readiness: the default model's sessions load",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: ReadySchema } } },
    503: { description: "Not ready", content: { "application/json": { schema: ReadySchema } } },
  },
});

export function registerHealth(
  app: OpenAPIHono,
  deps: AppDeps & { apiKeys?: () => readonly string[] },
): void {
  app.openapi(healthz, (c) => c.json({ status: "ok" as const }, 200));

  app.openapi(readyz, async (c) => {
    const model = deps.defaultModel();
    const auth = deps.authEnabled() ? ("api_keys" as const) : ("open" as const);
    const keys = deps.apiKeys?.() ?? [];
    const detailed = keys.length === 0 || (await hasApiKey(c.req.header("authorization"), keys));
    const started = Date.now();
    const sessions = () =>
      deps.registry.sessions().map((s) => ({
        model: s.model,
        graph: s.graph,
        runs_on: s.runs_on,
        runs: s.stats.runs,
        requests: s.stats.requests,
        largest_batch: s.stats.largestBatch,
        allocation_failures: s.stats.allocationFailures,
        refused: s.stats.refused,
        ...(s.rowCache ? { row_cache: s.rowCache } : {}),
      }));
    const wasmHeap = () => {
      const heap = deps.registry.heap();
      return heap?.heapBytes === undefined
        ? {}
        : {
            wasm_heap: {
              bytes: heap.heapBytes,
              growth: heap.heapGrowth,
              declined_grows: heap.declined,
              capped_grows: heap.capped,
            },
          };
    };
    try {
      const loaded = await deps.registry.get(model);
      await Promise.all([loaded.tokenizer(), loaded.textSession()]);
      if (!detailed) return c.json({ status: "ready" as const, model, auth }, 200);
      return c.json(
        {
          status: "ready" as const,
          model,
          hash: loaded.hash,
          auth,
          load_ms: Date.now() - started,
          sessions: sessions(),
          ...wasmHeap(),
          memory: deps.registry.memory(),
        },
        200,
      );
    } catch (error) {
      const e = error as { code?: string; message?: string };
      const code = e.code ?? "unavailable";
      return c.json(
        {
          status: "unavailable" as const,
          model,
          auth,
          ...(detailed
            ? { sessions: sessions(), error: { code, message: e.message ?? String(error) } }
            : { error: { code, message: "the default model does not load (details with a key)" } }),
        },
        503,
      );
    }
  });
}
