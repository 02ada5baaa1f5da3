/**
 * Named middleware `jsonBody`: the request must be `application/json` (415), at most its
 * route's body limit long (413, `hono/body-limit`: from Content-Length up front, else while
 * streaming) and parse as JSON (400). The parsed value stays in Hono's body cache, so the
 * zod validator that follows reuses it.
 *
 * Limits are per route (`limitOf(path)`): the image-carrying routes accept megabytes, the
 * JSON text routes stay small. A route whose body may or may not carry images (text-only
 * `/v1/embeddings`) gets the large limit while streaming, then `parsedLimitOf(path, body)`
 * applies the small one to a body that turns out to carry none.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/** A body limit and the var that sets it (named in the 413 message). */
export interface BodyLimit {
  bytes: number;
  name: string;
}

export interface JsonBodyOptions {
  /** The largest body a request to `path` may stream. */
  limitOf: (path: string) => BodyLimit;
  /** A tighter limit for the parsed `body`, if any (undefined: `limitOf(path)` stands). */
  parsedLimitOf?: (path: string, body: unknown) => BodyLimit | undefined;
  /** POST routes whose body is not JSON (a multipart upload) or that take none. */
  skip?: (path: string) => boolean;
}

export function jsonBody(options: JsonBodyOptions): MiddlewareHandler {
  return async function jsonBodyMiddleware(c, next) {
    if (c.req.method !== "POST" || options.skip?.(c.req.path)) return next();
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json") {
      throw new ClipEdgeError(
        "unsupported_media_type",
        `request body must be application/json, got ${type ? JSON.stringify(type) : "no Content-Type"}`,
      );
    }
    const path = c.req.path;
    const limit = options.limitOf(path);
    const capped = bodyLimit({
      maxSize: limit.bytes,
      onError: () => {
        throw tooLarge(c.req.header("content-length"), limit, path);
      },
    });
    return capped(c, async () => {
      const bytes = (await c.req.arrayBuffer()).byteLength;
      let body: unknown;
      try {
        body = await c.req.json(); // parsed once, cached for the validator
      } catch (cause) {
        throw new ClipEdgeError(
          "malformed",
          `request body is not valid JSON: ${(cause as Error).message}`,
        );
      }
      const parsedLimit = options.parsedLimitOf?.(path, body);
      if (parsedLimit && bytes > parsedLimit.bytes) throw tooLarge(bytes, parsedLimit, path);
      await next();
    });
  };
}

function tooLarge(bytes: number | string | undefined, limit: BodyLimit, path: string) {
  return new ClipEdgeError(
    "too_large",
    `request body${bytes !== undefined ? ` of ${bytes} bytes` : ""} is over the limit of ${limit.bytes} bytes for ${path} (${limit.name})`,
    { details: { limit: limit.bytes, limitVar: limit.name } },
  );
}
