/**
 * Named middleware `apiKeyAuth`: when API keys are configured (secret `API_KEYS`, comma or
 * newline separated), every request except the open paths needs
 * `Authorization: Bearer <key>`, checked by `hono/bearer-auth` (SHA-256 of both sides,
 * timing-safe compare). Failures are the API's JSON error (401 `unauthorized`, with
 * `WWW-Authenticate`). With no keys the API is open (local dev); `/readyz` reports it.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ClipEdgeError, httpErrorOf } from "../../conditioning/errors.ts";

export interface ApiKeyAuthOptions {
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

function unauthorized(message: string) {
  return (c: Context): Response => {
    const http = httpErrorOf(new ClipEdgeError("unauthorized", message));
    return c.json(http.body, http.status as ContentfulStatusCode, http.headers);
  };
}

export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler {
  let checked: { keys: readonly string[]; check: MiddlewareHandler } | undefined;
  return function apiKeyAuthMiddleware(c, next) {
    const keys = options.keys();
    if (keys.length === 0 || options.openPaths.includes(c.req.path)) return next();
    if (checked?.keys !== keys) {
      const invalid = unauthorized("the API key in the Authorization header is not valid");
      checked = {
        keys,
        check: bearerAuth({
          token: [...keys],
          realm: "clip-edge",
          noAuthenticationHeader: {
            message: unauthorized("missing Authorization: Bearer <API key> header"),
          },
          // Another scheme (Basic ...) or a malformed token: still a wrong credential (401).
          invalidAuthenticationHeader: { message: invalid },
          invalidToken: { message: invalid },
        }),
      };
    }
    return checked.check(c, next);
  };
}

/**
 * Whether an `Authorization` header carries one of `keys` (for open paths that say more to
 * a caller with a key, such as /readyz). Timing-safe, as `bearerAuth`.
 */
export async function hasApiKey(
  authorization: string | undefined,
  keys: readonly string[],
): Promise<boolean> {
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(authorization ?? "");
  if (!match) return false;
  let found = false;
  for (const key of keys) {
    if (await timingSafeEqual(key, match[1])) found = true;
  }
  return found;
}
