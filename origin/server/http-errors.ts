/**
 * ClipEdgeError -> HTTP status and the JSON error body `{ "error": { "code", "message" } }`.
 * Anything that is not a ClipEdgeError becomes a generic 500 (its message and stack stay in the log).
 */
import { type ClipEdgeErrorCode, isClipEdgeError } from "../../conditioning/errors.ts";

const STATUS: Record<ClipEdgeErrorCode, number> = {
  usage: 400,
  invalid_input: 400,
  malformed: 400,
  invalid_request: 422,
  not_found: 404,
  unauthorized: 401,
  too_large: 413,
  unsupported_media_type: 415,
  unavailable: 503,
  origin_unavailable: 503,
  overloaded: 429,
  integrity: 500,
  network: 502,
  unsupported: 422,
  internal: 500,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface HttpError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

export function toHttpError(error: unknown): HttpError {
  if (!isClipEdgeError(error) || error.code === "internal" || error.code === "integrity") {
    return {
      status: 500,
      body: { error: { code: "internal", message: "internal error" } },
      headers: {},
    };
  }
  const status = (error.details?.status as number | undefined) ?? STATUS[error.code] ?? 500;
  const headers: Record<string, string> = {};
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === "number")
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfter)));
  const details = error.details
    ? Object.fromEntries(Object.entries(error.details).filter(([k]) => k !== "status"))
    : undefined;
  return {
    status,
    body: {
      error: {
        code: error.code,
        message: error.message,
        ...(details && Object.keys(details).length > 0 ? { details } : {}),
      },
    },
    headers,
  };
}
