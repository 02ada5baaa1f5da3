/**
 * Named middleware `jsonBody`: the request must be `application/json` (415), at
 * most `maxBodyBytes` long (413) and parse as JSON (400). The parsed value is
 * left in Hono's body cache, so the zod validator that follows reuses it.
 */
import type { MiddlewareHandler } from "hono";
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
    const declared = Number(c.req.header("content-length") ?? Number.NaN);
    if (declared > limit) throw tooLarge(declared, limit);
    const bytes = await readLimited(c.req.raw.body, limit);
    const text = new TextDecoder().decode(bytes);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new ClipEdgeError(
        "malformed",
        `request body is not valid JSON (${bytes.byteLength} bytes): ${(cause as Error).message}`,
      );
    }
    // Hand the parsed body to later validators through Hono's body cache.
    const cache = (c.req as unknown as { bodyCache: Record<string, unknown> }).bodyCache;
    cache.json = Promise.resolve(value);
    return next();
  };
}

function tooLarge(size: number, limit: number): ClipEdgeError {
  return new ClipEdgeError(
    "too_large",
    `request body of ${size} bytes is over the limit of ${limit} bytes (MAX_BODY_BYTES)`,
  );
}

async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(size, limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
