/**
 * Named middleware `bearerAuth`: when API keys are configured (secret
 * `API_KEYS`, comma or newline separated), every request except the open paths
 * needs `Authorization: Bearer <key>`. Keys are compared in constant time
 * (SHA-256 of both sides, then `crypto.subtle.timingSafeEqual`, checking every
 * key). With no keys the API is open (local dev); `/readyz` reports it.
 */
import type { MiddlewareHandler } from "hono";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface BearerAuthOptions {
  /** Configured keys; empty = open. */
  keys: () => readonly string[];
  /** Paths served without a key. */
  openPaths: readonly string[];
}

export function parseApiKeys(secret: string | undefined): string[] {
  return (secret ?? "")
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

export async function keyMatches(candidate: string, keys: readonly string[]): Promise<boolean> {
  const given = await digest(candidate);
  let match = false;
  for (const key of keys) {
    const expected = await digest(key);
    // Always compare every key: no early exit.
    const equal = (crypto.subtle as unknown as TimingSafe).timingSafeEqual(given, expected);
    match = match || equal;
  }
  return match;
}

interface TimingSafe {
  timingSafeEqual(a: ArrayBuffer, b: ArrayBuffer): boolean;
}

export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  return async function bearerAuthMiddleware(c, next) {
    const keys = options.keys();
    if (keys.length === 0 || options.openPaths.includes(c.req.path)) return next();
    const header = c.req.header("authorization");
    if (!header) {
      throw new ClipEdgeError("unauthorized", "missing Authorization: Bearer <API key> header");
    }
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match || !(await keyMatches(match[1].trim(), keys))) {
      throw new ClipEdgeError(
        "unauthorized",
        "the API key in the Authorization header is not valid",
      );
    }
    return next();
  };
}
