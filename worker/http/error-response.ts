/**
 * The one error shape of the API: `{ "error": { "code", "message" } }`, never an
 * HTML page, never a stack trace. Statuses and `Retry-After` come from the core's
 * table (`httpErrorOf` in conditioning/errors.ts), shared with the origin.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorBody, httpErrorOf, isClipEdgeError } from "../../conditioning/errors.ts";

export { errorBody };

/** Hono `onError` handler. */
export function handleError(err: unknown, c: Context): Response {
  if (err instanceof HTTPException) {
    // Middleware that built its own answer (bearer auth: the JSON 401) keeps it.
    if (err.res) return err.getResponse();
    const status = err.status as ContentfulStatusCode;
    const code = status === 400 ? "malformed" : status === 413 ? "too_large" : "http_error";
    return c.json(errorBody(code, err.message || `HTTP ${status}`), status);
  }
  if (!isClipEdgeError(err) || err.code === "internal") {
    console.error("clip-edge worker: unexpected error", err);
  }
  const http = httpErrorOf(err);
  if (http.status === 500 && http.body.error.code === "internal") {
    http.body.error.message = "internal error (see the worker logs)";
  }
  return c.json(http.body, http.status as ContentfulStatusCode, http.headers);
}

/** Hono `notFound` handler. */
export function handleNotFound(c: Context): Response {
  return c.json(
    errorBody("not_found", `no route ${c.req.method} ${new URL(c.req.url).pathname}`),
    404,
  );
}
