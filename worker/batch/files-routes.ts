/**
 * The files of the batch API, as OpenAI's: POST /v1/files (multipart `file` + `purpose`
 * "batch": a JSONL input file, or "vision": an image that `{ file_id }` image inputs name; up
 * to MAX_BATCH_FILE_BYTES, stored in R2), GET
 * /v1/files/{id} (the file object) and GET /v1/files/{id}/content (its bytes: inputs, and the
 * output and error files of batches).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { AppDeps } from "../app-deps.ts";
import { LIMIT_VARS } from "../config/limits.ts";
import { ErrorSchema, errorResponses } from "../http/schemas.ts";
import { FileObjectSchema, newId, UPLOAD_PURPOSES } from "./batch-schema.ts";
import { checkFileId, fileKey, fileMetadata, fileObjectOf, requireBatch } from "./batch-store.ts";

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

const fileParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({
      param: { name: "id", in: "path" },
      example: "file-0123456789abcdef0123456789abcdef",
    }),
});

const UploadSchema = z
  .object({
    purpose: z.enum(UPLOAD_PURPOSES).openapi({
      description: "batch: a JSONL input file; vision: an image for `{ file_id }` image inputs",
    }),
    file: z
      .custom<File>(
        (value) => typeof value === "object" && value !== null && "arrayBuffer" in value,
        {
          message: "file must be a file part",
        },
      )
      .openapi({ type: "string", format: "binary" }),
  })
  .openapi("FileUpload");

function uploadLimit(deps: AppDeps): MiddlewareHandler {
  return (c, next) => {
    const bytes = deps.limits().maxBatchFileBytes;
    return bodyLimit({
      maxSize: bytes,
      onError: () => {
        throw new ClipEdgeError(
          "too_large",
          `the upload is over the limit of ${bytes} bytes (${LIMIT_VARS.maxBatchFileBytes})`,
          { details: { limit: bytes, limitVar: LIMIT_VARS.maxBatchFileBytes } },
        );
      },
    })(c, next);
  };
}

export function registerFiles(app: OpenAPIHono, deps: AppDeps): void {
  const upload = createRoute({
    method: "post",
    path: "/v1/files",
    summary: "Upload a batch input file (JSONL), as OpenAI files.create",
    middleware: [uploadLimit(deps)] as const,
    request: {
      body: { content: { "multipart/form-data": { schema: UploadSchema } }, required: true },
    },
    responses: {
      200: {
        description: "The stored file",
        content: { "application/json": { schema: FileObjectSchema } },
      },
      401: errorResponses[401],
      413: error("Over MAX_BATCH_FILE_BYTES"),
      422: error("Not a multipart form with a file and purpose batch"),
      503: errorResponses[503],
    },
  });
  app.openapi(upload, async (c) => {
    const batch = requireBatch(deps.batch?.());
    const { file, purpose } = c.req.valid("form");
    const id = newId("file-");
    const bytes = new Uint8Array(await file.arrayBuffer());
    const filename = (file as { name?: string }).name || `${id}.jsonl`;
    await batch.bucket.put(fileKey(id), bytes, {
      customMetadata: fileMetadata(filename, purpose),
    });
    const stored = await batch.bucket.head(fileKey(id));
    if (!stored) throw new ClipEdgeError("unavailable", `R2 bucket BATCHES lost ${id}`);
    return c.json(fileObjectOf(id, stored), 200);
  });

  const retrieve = createRoute({
    method: "get",
    path: "/v1/files/{id}",
    summary: "A file object, as OpenAI files.retrieve",
    request: { params: fileParam },
    responses: {
      200: {
        description: "The file",
        content: { "application/json": { schema: FileObjectSchema } },
      },
      401: errorResponses[401],
      404: error("No such file"),
      503: errorResponses[503],
    },
  });
  app.openapi(retrieve, async (c) => {
    const batch = requireBatch(deps.batch?.());
    const { id } = c.req.valid("param");
    checkFileId(id);
    const stored = await batch.bucket.head(fileKey(id));
    if (!stored) throw new ClipEdgeError("not_found", `no file ${JSON.stringify(id)}`);
    return c.json(fileObjectOf(id, stored), 200);
  });

  const content = createRoute({
    method: "get",
    path: "/v1/files/{id}/content",
    summary: "A file's bytes (JSONL), as OpenAI files.content",
    request: { params: fileParam },
    responses: {
      200: {
        description: "The file's JSONL",
        content: { "application/jsonl": { schema: { type: "string" } } },
      },
      401: errorResponses[401],
      404: error("No such file"),
      503: errorResponses[503],
    },
  });
  app.openapi(content, async (c) => {
    const batch = requireBatch(deps.batch?.());
    const { id } = c.req.valid("param");
    checkFileId(id);
    const stored = await batch.bucket.get(fileKey(id));
    if (!stored) throw new ClipEdgeError("not_found", `no file ${JSON.stringify(id)}`);
    return new Response(stored.body, {
      headers: {
        "content-type": "application/jsonl",
        "content-length": String(stored.size),
      },
    }) as never;
  });
}
