/**
 * Response cache on the Cache API. Results are deterministic, so the key is a
 * SHA-256 of the model hash(es) and the canonical (key-sorted) validated
 * request; a hit skips tokenising and inference. Every cacheable response
 * carries `ETag` (the key), `Cache-Control` and `X-Cache: HIT|MISS`;
 * `If-None-Match` with the ETag answers 304. A miss's `cache.put` runs in
 * `waitUntil` (a blocked put cost every miss its write), so the answer does
 * not wait for it.
 */
import type { Context } from "hono";

export interface ResponseCacheOptions {
  /** The cache to use (`caches.default` in workerd); undefined disables caching. */
  cache: () => Cache | undefined;
  ttlSeconds: () => number;
}

export interface ResponseCache {
  respond(
    c: Context,
    parts: { route: string; modelHashes: readonly string[]; request: unknown },
    produce: () => Promise<Response>,
  ): Promise<Response>;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function keyOf(parts: { route: string; modelHashes: readonly string[]; request: unknown }) {
  const text = `${parts.route}\n${parts.modelHashes.join(",")}\n${canonicalJson(parts.request)}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hono's execution context, or undefined where there is none (`app.request` in Node tests). */
function executionContextOf(c: Context): ExecutionContext | undefined {
  try {
    return c.executionCtx as ExecutionContext;
  } catch {
    return undefined;
  }
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  return {
    async respond(c, parts, produce) {
      const key = await keyOf(parts);
      const etag = `"${key}"`;
      const ttl = options.ttlSeconds();
      const cache = ttl > 0 ? options.cache() : undefined;
      const cacheRequest = new Request(`https://cache.clip-edge.invalid/${parts.route}/${key}`);
      const ifNoneMatch = c.req.header("if-none-match");

      let response: Response | undefined;
      if (cache) {
        const hit = await cache.match(cacheRequest);
        if (hit) {
          response = new Response(hit.body, hit);
          response.headers.set("X-Cache", "HIT");
        }
      }
      if (!response) {
        const fresh = await produce();
        if (!fresh.ok) return fresh;
        const body = await fresh.arrayBuffer();
        const headers = new Headers(fresh.headers);
        headers.set("ETag", etag);
        headers.set("Cache-Control", ttl > 0 ? `public, max-age=${ttl}, immutable` : "no-store");
        if (cache) {
          // Off the response's path where the runtime allows (workerd: waitUntil); the next
          // identical request may still miss while the put is in flight.
          const put = cache.put(cacheRequest, new Response(body, { status: 200, headers }));
          const ctx = executionContextOf(c);
          if (ctx) ctx.waitUntil(put.catch(() => {}));
          else await put;
        }
        headers.set("X-Cache", "MISS");
        response = new Response(body, { status: 200, headers });
      }
      if (ifNoneMatch?.split(",").some((t) => t.trim() === etag)) {
        return new Response(null, {
          status: 304,
          headers: { ETag: etag, "X-Cache": response.headers.get("X-Cache") ?? "" },
        });
      }
      return response;
    },
  };
}
