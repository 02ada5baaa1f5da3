/**
 * Runs the request lines of one chunk through the app's own routes, in-process
 * (`app.fetch`): the same validation, limits, errors and results as online requests. Each
 * line becomes an output line (2xx) or an error line (anything else, or a line that is not
 * a request for the batch's endpoint).
 */
import { ClipEdgeError, errorBody } from "../../conditioning/errors.ts";
import {
  type BatchEndpoint,
  BatchInputLineSchema,
  type BatchOutputLine,
  requestId,
} from "./batch-schema.ts";

export interface RunChunkOptions {
  batchId: string;
  endpoint: BatchEndpoint;
  lines: readonly { line: number; text: string }[];
  /** The online app (Hono's `app.fetch`). */
  fetch: (request: Request) => Response | Promise<Response>;
  /** Headers every in-process request carries (the API key, when keys are configured). */
  headers: Record<string, string>;
  /** Lines in flight at once. */
  concurrency: number;
}

export interface ChunkLines {
  output: BatchOutputLine[];
  errors: BatchOutputLine[];
}

export async function runChunk(options: RunChunkOptions): Promise<ChunkLines> {
  const results: { ok: boolean; line: BatchOutputLine }[] = new Array(options.lines.length);
  let next = 0;
  const worker = async () => {
    while (next < options.lines.length) {
      const index = next++;
      results[index] = await runLine(options, options.lines[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return {
    output: results.filter((r) => r.ok).map((r) => r.line),
    errors: results.filter((r) => !r.ok).map((r) => r.line),
  };
}

async function runLine(
  options: RunChunkOptions,
  { line, text }: { line: number; text: string },
): Promise<{ ok: boolean; line: BatchOutputLine }> {
  const id = requestId(options.batchId, line);
  const fail = (code: string, message: string, customId: string | null = null) => ({
    ok: false,
    line: { id, custom_id: customId, response: null, error: { code, message } },
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return fail("malformed", `line ${line} is not valid JSON: ${(cause as Error).message}`);
  }
  const parsed = BatchInputLineSchema.safeParse(value);
  const customId =
    typeof (value as { custom_id?: unknown })?.custom_id === "string"
      ? (value as { custom_id: string }).custom_id
      : null;
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "line"}: ${i.message}`);
    return fail(
      "invalid_input",
      `line ${line} is not a batch request {custom_id, method: "POST", url, body}: ${issues.join("; ")}`,
      customId,
    );
  }
  const request = parsed.data;
  if (request.url !== options.endpoint) {
    return fail(
      "invalid_request",
      `line ${line}: url ${JSON.stringify(request.url)} is not the batch's endpoint ${options.endpoint}`,
      request.custom_id,
    );
  }
  const response = await options.fetch(
    new Request(`http://batch${request.url}`, {
      method: "POST",
      headers: { ...options.headers, "content-type": "application/json" },
      body: JSON.stringify(request.body),
    }),
  );
  const body = await responseBody(response);
  const out: BatchOutputLine = {
    id,
    custom_id: request.custom_id,
    response: { status_code: response.status, request_id: id, body },
    error: null,
  };
  if (response.ok) return { ok: true, line: out };
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  out.error = {
    code: typeof error?.code === "string" ? error.code : "http_error",
    message: typeof error?.message === "string" ? error.message : `HTTP ${response.status}`,
  };
  return { ok: false, line: out };
}

/** JSON bodies as JSON; the file formats of /v1/conditioning as base64 with their type. */
async function responseBody(response: Response): Promise<unknown> {
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch (cause) {
      const error = new ClipEdgeError("internal", "a route answered malformed JSON", { cause });
      return errorBody("internal", error.message);
    }
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return { content_type: type, b64: btoa(binary) };
}
