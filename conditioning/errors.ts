/**
 * The project's single error class. Every failure that reaches a user carries a
 * stable machine-readable `code`, a message that names the offending input (and
 * shapes, where shapes are involved), and the underlying `cause` when there is one.
 */
export type ClipEdgeErrorCode =
  | "usage" // bad command-line arguments (CLI exits 2)
  | "invalid_input" // a value the caller passed is malformed or out of range
  | "invalid_request" // well-formed request that cannot be served
  | "malformed" // bytes that do not parse
  | "not_found" // unknown model, file or route
  | "unauthorized" // missing or wrong credentials
  | "too_large" // over a configured limit
  | "unsupported_media_type"
  | "unavailable" // model or dependency cannot be used now
  | "origin_unavailable" // the image origin is down
  | "overloaded" // queue full
  | "over_capacity" // the isolate's memory budget cannot take this now
  | "integrity" // hash mismatch, corrupt file
  | "network" // download / fetch failure
  | "unsupported" // a checkpoint or feature this project does not handle
  | "internal"; // HTTP statuses: HTTP_STATUS below

export class ClipEdgeError extends Error {
  readonly code: ClipEdgeErrorCode;
  /** Extra structured details, safe to show to a user (never a stack trace). */
  readonly details?: Record<string, unknown>;

  constructor(
    code: ClipEdgeErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ClipEdgeError";
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

export function isClipEdgeError(value: unknown): value is ClipEdgeError {
  return value instanceof ClipEdgeError;
}

/**
 * The one table of HTTP statuses, used by the worker and the origin alike
 * (docs/worker.md "Errors"). 4xx: the request must change; 5xx: the server side failed.
 * Server overload is 503 + Retry-After (RFC 9110 §15.6.4: "temporary overload"); 429
 * means the client itself sent too much, a per-client rate limit this project has none of.
 */
export const HTTP_STATUS: Record<ClipEdgeErrorCode, number> = {
  usage: 400,
  malformed: 400,
  unauthorized: 401,
  not_found: 404,
  too_large: 413,
  unsupported_media_type: 415,
  invalid_input: 422,
  invalid_request: 422,
  unsupported: 422,
  internal: 500,
  integrity: 500,
  network: 502,
  unavailable: 503,
  origin_unavailable: 503,
  overloaded: 503,
  over_capacity: 503,
};

/**
 * Codes worth retrying unchanged, with the wait (seconds) sent as `Retry-After` when the
 * error itself carries no `details.retryAfterSeconds`.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ClipEdgeErrorCode, number>> = {
  unavailable: 5,
  origin_unavailable: 5,
  overloaded: 1,
  over_capacity: 2,
};

export interface HttpErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface HttpError {
  status: number;
  body: HttpErrorBody;
  /** `Retry-After` (retryable codes) and `WWW-Authenticate` (unauthorized). */
  headers: Record<string, string>;
}

export function errorBody(
  code: string,
  message: string,
  details?: Record<string, unknown>,
): HttpErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}

/**
 * A ClipEdgeError as an HTTP answer: status from HTTP_STATUS; for retryable codes one
 * whole-second wait, the same in the `Retry-After` header and the body's
 * `details.retryAfterSeconds`. Anything else is a generic 500 `internal` (log it yourself).
 */
export function httpErrorOf(error: unknown): HttpError {
  if (!isClipEdgeError(error) || error.code === "internal") {
    return { status: 500, body: errorBody("internal", "internal error"), headers: {} };
  }
  const headers: Record<string, string> = {};
  let details = error.details;
  const fallback = RETRY_AFTER_SECONDS[error.code];
  const given = details?.retryAfterSeconds;
  if (fallback !== undefined || typeof given === "number") {
    const wait = typeof given === "number" && given > 0 ? given : (fallback ?? 1);
    const seconds = Math.max(1, Math.ceil(wait));
    headers["Retry-After"] = String(seconds);
    details = { ...details, retryAfterSeconds: seconds };
  }
  if (error.code === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="clip-edge"';
  return {
    status: HTTP_STATUS[error.code],
    body: errorBody(error.code, error.message, details),
    headers,
  };
}
