/**
 * Bearer-token check against the shared ORIGIN_SECRET. Both sides are hashed with SHA-256
 * and compared with `timingSafeEqual`, so neither the secret's content nor its length
 * leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export type BearerCheck = (authorization: string | undefined) => void;

export function createBearerCheck(secret: string): BearerCheck {
  if (typeof secret !== "string" || secret.length < 16) {
    throw new ClipEdgeError(
      "usage",
      "ORIGIN_SECRET must be set to a shared secret of at least 16 characters",
    );
  }
  const expected = createHash("sha256").update(secret, "utf8").digest();
  return (authorization) => {
    const match = /^Bearer ([^\s]+)\s*$/i.exec(authorization ?? "");
    const given = createHash("sha256")
      .update(match ? match[1] : "", "utf8")
      .digest();
    if (!timingSafeEqual(given, expected) || !match) {
      throw new ClipEdgeError(
        "unauthorized",
        authorization ? "invalid bearer token" : "missing Authorization: Bearer <ORIGIN_SECRET>",
      );
    }
  };
}
