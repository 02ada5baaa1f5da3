/**
 * The project's single error class. Every failure that reaches a user carries a
 * stable machine-readable `code`, a message that names the offending input (and
 * shapes, where shapes are involved), and the underlying `cause` when there is one.
 */
export type ClipEdgeErrorCode =
  | "usage" // bad command-line arguments (CLI exits 2)
  | "invalid_input" // a value the caller passed is malformed or out of range
  | "invalid_request" // well-formed request that cannot be served (HTTP 422)
  | "malformed" // bytes that do not parse (HTTP 400)
  | "not_found" // unknown model, file or route (HTTP 404)
  | "unauthorized" // missing or wrong credentials (HTTP 401)
  | "too_large" // over a configured limit (HTTP 413)
  | "unsupported_media_type" // HTTP 415
  | "unavailable" // model or dependency cannot be used now (HTTP 503)
  | "origin_unavailable" // the image origin is down (HTTP 503)
  | "overloaded" // queue full (HTTP 429/503 with Retry-After)
  | "integrity" // hash mismatch, corrupt file
  | "network" // download / fetch failure
  | "unsupported" // a checkpoint or feature this project does not handle
  | "internal";

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
