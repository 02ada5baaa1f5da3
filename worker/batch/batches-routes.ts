/**
 * The batches of the batch API, as OpenAI's: POST /v1/batches (cuts the input file into
 * chunks of BATCH_CHUNK_LINES lines and queues them), GET /v1/batches/{id} (status, counts,
 * output and error file ids, from the batch's Durable Object) and POST
 * /v1/batches/{id}/cancel (no further chunk runs; those running land).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { AppDeps } from "../app-deps.ts";
import { LIMIT_VARS } from "../config/limits.ts";
import { ErrorSchema, errorResponses } from "../http/schemas.ts";
import { type Batch, BatchCreateRequestSchema, BatchSchema, newId } from "./batch-schema.ts";
import {
  ACTIVE_PREFIX,
  activeKey,
  type BatchDeps,
  type ChunkMessage,
  checkBatchId,
  checkFileId,
  fileKey,
  requireBatch,
} from "./batch-store.ts";
import { planChunks } from "./jsonl.ts";

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

const batchParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({
      param: { name: "id", in: "path" },
      example: "batch_0123456789abcdef0123456789abcdef",
    }),
});

const batchResponse = {
  description: "The batch",
  content: { "application/json": { schema: BatchSchema } },
};

/** Queues.sendBatch takes at most 100 messages per call. */
const SEND_BATCH_SIZE = 100;

export function registerBatches(app: OpenAPIHono, deps: AppDeps): void {
  const create = createRoute({
    method: "post",
    path: "/v1/batches",
    summary: "Start a batch over an uploaded JSONL file, as OpenAI batches.create",
    request: {
      body: {
        content: { "application/json": { schema: BatchCreateRequestSchema } },
        required: true,
      },
    },
    responses: {
      200: batchResponse,
      400: errorResponses[400],
      401: errorResponses[401],
      404: error("No such input file"),
      413: error("Over MAX_BATCH_LINES"),
      415: errorResponses[415],
      422: error("Not a batch request, or an input file with no request line"),
      503: error("MAX_CONCURRENT_BATCHES batches are running (`overloaded`, Retry-After)"),
    },
  });
  app.openapi(create, async (c) => {
    const batch = requireBatch(deps.batch?.());
    const body = c.req.valid("json");
    return c.json(await createBatch(batch, deps, body), 200);
  });

  const retrieve = createRoute({
    method: "get",
    path: "/v1/batches/{id}",
    summary: "A batch: status, request counts, output and error files (OpenAI batches.retrieve)",
    request: { params: batchParam },
    responses: {
      200: batchResponse,
      401: errorResponses[401],
      404: error("No such batch"),
      503: errorResponses[503],
    },
  });
  app.openapi(retrieve, async (c) => {
    const batch = requireBatch(deps.batch?.());
    const { id } = c.req.valid("param");
    return c.json(found(id, await stateOf(batch, id).get()), 200);
  });

  const cancel = createRoute({
    method: "post",
    path: "/v1/batches/{id}/cancel",
    summary: "Cancel a batch: no further chunk runs (OpenAI batches.cancel)",
    request: { params: batchParam },
    responses: {
      200: batchResponse,
      401: errorResponses[401],
      404: error("No such batch"),
      503: errorResponses[503],
    },
  });
  app.openapi(cancel, async (c) => {
    const batch = requireBatch(deps.batch?.());
    const { id } = c.req.valid("param");
    return c.json(found(id, await stateOf(batch, id).cancel()), 200);
  });
}

function stateOf(batch: BatchDeps, id: string) {
  checkBatchId(id);
  return batch.state(id);
}

function found(id: string, batch: Batch | null): Batch {
  if (!batch) throw new ClipEdgeError("not_found", `no batch ${JSON.stringify(id)}`);
  return batch;
}

async function createBatch(
  batch: BatchDeps,
  deps: AppDeps,
  body: z.infer<typeof BatchCreateRequestSchema>,
): Promise<Batch> {
  const limits = deps.limits();
  checkFileId(body.input_file_id);
  const input = await batch.bucket.get(fileKey(body.input_file_id));
  if (!input) {
    throw new ClipEdgeError("not_found", `no file ${JSON.stringify(body.input_file_id)}`);
  }
  if (input.customMetadata?.purpose !== "batch") {
    await input.body.cancel();
    throw new ClipEdgeError(
      "invalid_request",
      `file ${body.input_file_id} has purpose ${input.customMetadata?.purpose}, not batch`,
    );
  }
  const running = await batch.bucket.list({
    prefix: ACTIVE_PREFIX,
    limit: limits.maxConcurrentBatches,
  });
  if (running.objects.length >= limits.maxConcurrentBatches) {
    await input.body.cancel();
    throw new ClipEdgeError(
      "overloaded",
      `${running.objects.length} batches are running, the limit is ${limits.maxConcurrentBatches} (${LIMIT_VARS.maxConcurrentBatches})`,
      {
        details: { limit: limits.maxConcurrentBatches, limitVar: LIMIT_VARS.maxConcurrentBatches },
      },
    );
  }
  const plan = await planChunks(input.body, {
    chunkLines: limits.batchChunkLines,
    maxLines: limits.maxBatchLines,
    maxLinesVar: LIMIT_VARS.maxBatchLines,
  });
  if (plan.lines === 0) {
    throw new ClipEdgeError("invalid_input", `file ${body.input_file_id} has no request line`);
  }
  const id = newId("batch_");
  const created = Math.floor(Date.now() / 1000);
  const state: Batch = {
    id,
    object: "batch",
    endpoint: body.endpoint,
    errors: null,
    input_file_id: body.input_file_id,
    completion_window: body.completion_window,
    status: "in_progress",
    output_file_id: null,
    error_file_id: null,
    created_at: created,
    in_progress_at: created,
    expires_at: created + 24 * 3600,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: plan.lines, completed: 0, failed: 0 },
    metadata: body.metadata ?? null,
  };
  await batch.bucket.put(activeKey(id), String(created));
  const initialized = await batch.state(id).init(state, plan.chunks.length);
  const messages = plan.chunks.map((range, chunk): { body: ChunkMessage } => ({
    body: {
      batchId: id,
      chunk,
      fileId: body.input_file_id,
      offset: range.offset,
      length: range.length,
      firstLine: range.firstLine,
    },
  }));
  for (let i = 0; i < messages.length; i += SEND_BATCH_SIZE) {
    await batch.queue.sendBatch(messages.slice(i, i + SEND_BATCH_SIZE));
  }
  return initialized;
}
