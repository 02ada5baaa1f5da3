/**
 * The OpenAPI document at GET /openapi.json: the routes' own definitions (zod schemas),
 * finished here in one place: operation ids, the bearer scheme required at the root and
 * lifted on the open paths, and the response headers the routes set (`X-Model`, the
 * cache's `ETag` / `X-Cache`, the tensor headers). `redocly lint` with the recommended
 * rules passes on it (test/worker/http/openapi-lint.test.ts).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";

type Header = { description: string; schema: { type: "string"; enum?: string[] } };

const text = (description: string, values?: string[]): Header => ({
  description,
  schema: values ? { type: "string", enum: values } : { type: "string" },
});

/** Headers of a response served through the response cache (worker/http/response-cache.ts). */
const CACHE_HEADERS: Record<string, Header> = {
  ETag: text("Key of the cached answer (SHA-256 of route, model hashes and request)"),
  "X-Cache": text("Whether the answer came from the Cache API", ["HIT", "MISS"]),
  "Cache-Control": text("public, max-age=CACHE_TTL_SECONDS, immutable"),
};

/** Per "METHOD path": its operation id and the headers of its 200 answer. */
const OPERATIONS: Record<string, { id: string; headers?: Record<string, Header> }> = {
  "get /healthz": { id: "getHealth" },
  "get /readyz": { id: "getReadiness" },
  "get /v1/models": { id: "listModels" },
  "get /v1/models/{id}": { id: "retrieveModel" },
  "post /v1/embeddings": { id: "createEmbeddings", headers: CACHE_HEADERS },
  "post /v1/conditioning": {
    id: "createConditioning",
    headers: {
      "X-Model": text("Model id(s), comma-separated in preset order"),
      "X-Model-Hash": text("Bundle hash(es), in the order of X-Model"),
      "X-Token-Counts": text("BPE tokens per prompt, comma-separated"),
      "X-Truncated": text("1 per prompt cut at 75 tokens, else 0, comma-separated"),
      "X-Tensor-Shapes": text("name=AxBxC per tensor, comma-separated"),
      "X-Tensor-Dtype": text("Float dtype of the tensors", ["float32", "float16"]),
      "X-Tensor-Index": text(
        "format raw: JSON index { tensors: {name: {dtype, shape, offset, bytes}}, metadata }",
      ),
      ...CACHE_HEADERS,
    },
  },
  "post /v1/tokenize": { id: "tokenize" },
  "post /v1/score": { id: "createScore" },
  "post /v1/files": { id: "createFile" },
  "get /v1/files/{id}": { id: "retrieveFile" },
  "get /v1/files/{id}/content": { id: "retrieveFileContent" },
  "post /v1/batches": { id: "createBatch" },
  "get /v1/batches/{id}": { id: "retrieveBatch" },
  "post /v1/batches/{id}/cancel": { id: "cancelBatch" },
};

export interface OpenApiDocumentOptions {
  /** Paths served without an API key. */
  openPaths: readonly string[];
}

/** Registers the bearer scheme and GET /openapi.json; call after every route is registered. */
export function registerOpenApiDocument(app: OpenAPIHono, options: OpenApiDocumentOptions): void {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const route = definition.route;
    const operation = OPERATIONS[`${route.method} ${route.path}`];
    route.operationId ??= operation?.id;
    if (options.openPaths.includes(route.path)) route.security = [];
    const ok = route.responses[200];
    if (operation?.headers && ok && !("$ref" in ok)) {
      ok.headers = { ...operation.headers, ...(ok.headers as object | undefined) };
    }
    if (operation?.headers?.ETag) {
      route.responses[304] ??= { description: "Not modified: If-None-Match matched the ETag" };
    }
  }
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "API key (API_KEYS); unset API_KEYS opens the API",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "clip-edge",
      version: "0.1.0",
      description: "CLIP text conditioning, embeddings and tokenization at the edge",
    },
    servers: [{ url: "/", description: "This worker" }],
    security: [{ bearer: [] }],
  });
}
