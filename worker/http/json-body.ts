/**
 * Named middleware `jsonBody`: the request must be `application/json` (415), at most
 * `maxBodyBytes` long (413, `hono/body-limit`: from Content-Length up front, else while
 * streaming) and parse as JSON (400). The parsed value stays in Hono's body cache, so the
 * zod validator that follows reuses it.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface JsonBodyOptions {
  maxBodyBytes: () => number;
}

export function jsonBody(options: JsonBodyOptions): MiddlewareHandler {
  return async function jsonBodyMiddleware(c, next) {
    if (c.req.method !== "POST") return next();
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json") {
      throw new ClipEdgeError(
        "unsupported_media_type",
        `request body must be application/json, got ${type ? JSON.stringify(type) : "no Content-Type"}`,
      );
    }
    const limit = options.maxBodyBytes();
    const capped = bodyLimit({
      maxSize: limit,
      onError: () => {
        const declared = c.req.header("content-length");
        throw new ClipEdgeError(
          "too_large",
          `request body${declared ? ` of ${declared} bytes` : ""} is over the limit of ${limit} bytes (MAX_BODY_BYTES)`,
        );
      },
    });
    return capped(c, async () => {
      try {
        await c.req.json(); // parsed once, cached for the validator
      } catch (cause) {
        throw new ClipEdgeError(
          "malformed",
          `request body is not valid JSON: ${(cause as Error).message}`,
        );
      }
      await next();
    });
  };
}
