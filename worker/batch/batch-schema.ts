/**
 * The batch API's shapes, as OpenAI's Batch API defines them (so its SDKs work): the file
 * and batch objects, the create request, and the input / output lines of a batch file.
 */
import { z } from "@hono/zod-openapi";

/** The routes a batch line may target: the online routes, run in-process. */
export const BATCH_ENDPOINTS = ["/v1/embeddings", "/v1/conditioning", "/v1/score"] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

export const BatchCreateRequestSchema = z
  .object({
    input_file_id: z.string().min(1).openapi({ example: "file-3f2a..." }),
    endpoint: z.enum(BATCH_ENDPOINTS),
    completion_window: z
      .literal("24h")
      .openapi({ description: "Only 24h, as OpenAI; the batch expires after it" }),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
  })
  .openapi("BatchCreateRequest");
export type BatchCreateRequest = z.infer<typeof BatchCreateRequestSchema>;

export const BATCH_STATUSES = [
  "validating",
  "failed",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "cancelling",
  "cancelled",
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
/** Statuses a batch never leaves. */
export const TERMINAL_STATUSES: readonly BatchStatus[] = [
  "failed",
  "completed",
  "expired",
  "cancelled",
];

const timestamp = z.number().int().nullable().optional();

export const BatchSchema = z
  .object({
    id: z.string(),
    object: z.literal("batch"),
    endpoint: z.string(),
    errors: z
      .object({
        object: z.literal("list"),
        data: z.array(
          z.object({
            code: z.string(),
            message: z.string(),
            param: z.string().nullable(),
            line: z.number().int().nullable(),
          }),
        ),
      })
      .nullable(),
    input_file_id: z.string(),
    completion_window: z.string(),
    status: z.enum(BATCH_STATUSES),
    output_file_id: z.string().nullable(),
    error_file_id: z.string().nullable(),
    created_at: z.number().int(),
    in_progress_at: timestamp,
    expires_at: timestamp,
    finalizing_at: timestamp,
    completed_at: timestamp,
    failed_at: timestamp,
    expired_at: timestamp,
    cancelling_at: timestamp,
    cancelled_at: timestamp,
    request_counts: z.object({
      total: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int(),
    }),
    metadata: z.record(z.string(), z.string()).nullable(),
  })
  .openapi("Batch");
export type Batch = z.infer<typeof BatchSchema>;

/** `batch`: a JSONL input; `vision`: an image that score / embeddings lines name by `file_id`. */
export const FILE_PURPOSES = ["batch", "batch_output", "vision"] as const;
export const UPLOAD_PURPOSES = ["batch", "vision"] as const;

export const FileObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal("file"),
    bytes: z.number().int(),
    created_at: z.number().int(),
    filename: z.string(),
    purpose: z.enum(FILE_PURPOSES),
    status: z.literal("processed"),
  })
  .openapi("FileObject");
export type FileObject = z.infer<typeof FileObjectSchema>;

/** One request line of an input file. */
export const BatchInputLineSchema = z.object({
  custom_id: z.string().min(1).max(512),
  method: z.literal("POST"),
  url: z.string(),
  body: z.record(z.string(), z.unknown()),
});
export type BatchInputLine = z.infer<typeof BatchInputLineSchema>;

/** One line of an output or error file. */
export interface BatchOutputLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/** Unguessable ids shaped like OpenAI's (`file-...`, `batch_...`). */
export function newId(prefix: "file-" | "batch_"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The id of a request line: fixed by batch and line number, so a retried chunk repeats it. */
export function requestId(batchId: string, line: number): string {
  return `batch_req_${batchId.replace(/^batch_/, "")}_${line}`;
}
