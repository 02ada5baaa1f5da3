/**
 * The one error shape of the API: `{ "error": { "code", "message" } }`, never an
 * HTML page, never a stack trace. ClipEdgeError codes map to HTTP statuses here.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ClipEdgeErrorCode, isClipEdgeError } from "../../conditioning/errors.ts";

const STATUS: Partial<Record<ClipEdgeErrorCode, ContentfulStatusCode>> = {
  malformed: 400,
  usage: 400,
  unauthorized: 401,
  not_found: 404,
  too_large: 413,
  unsupported_media_type: 415,
  invalid_input: 422,
  invalid_request: 422,
  unsupported: 422,
  overloaded: 503,
  unavailable: 503,
  origin_unavailable: 503,
  integrity: 503,
  network: 503,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export function errorBody(
  code: string,
  message: string,
  details?: Record<string, unknown>,
): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}

export function statusOf(code: ClipEdgeErrorCode): ContentfulStatusCode {
  return STATUS[code] ?? 500;
}

/** Hono `onError` handler. */
export function handleError(err: unknown, c: Context): Response {
  if (isClipEdgeError(err)) {
    const status = statusOf(err.code);
    const headers: Record<string, string> = {};
    if (err.code === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="clip-edge"';
    if (status === 503) headers["Retry-After"] = "5";
    return c.json(errorBody(err.code, err.message, err.details), status, headers);
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code = status === 400 ? "malformed" : status === 413 ? "too_large" : "http_error";
    return c.json(errorBody(code, err.message || `HTTP ${status}`), status);
  }
  console.error("clip-edge worker: unexpected error", err);
  return c.json(errorBody("internal", "internal error (see the worker logs)"), 500);
}

/** Hono `notFound` handler. */
export function handleNotFound(c: Context): Response {
  return c.json(
    errorBody("not_found", `no route ${c.req.method} ${new URL(c.req.url).pathname}`),
    404,
  );
}
