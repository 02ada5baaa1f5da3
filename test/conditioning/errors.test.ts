import { describe, expect, it } from "vitest";
import {
  ClipEdgeError,
  type ClipEdgeErrorCode,
  HTTP_STATUS,
  httpErrorOf,
  RETRY_AFTER_SECONDS,
} from "../../conditioning/errors.ts";

describe("httpErrorOf: the one code -> HTTP table of the worker and the origin", () => {
  it.each([
    ["malformed", 400],
    ["invalid_input", 422],
    ["invalid_request", 422],
    ["unauthorized", 401],
    ["too_large", 413],
    ["overloaded", 503],
    ["over_capacity", 503],
    ["integrity", 500],
    ["network", 502],
    ["origin_unavailable", 503],
  ] as [ClipEdgeErrorCode, number][])("%s -> %i", (code, status) => {
    const http = httpErrorOf(new ClipEdgeError(code, `a ${code} failure`));
    expect(http.status).toBe(status);
    expect(http.body.error).toMatchObject({ code, message: `a ${code} failure` });
  });

  it("sends Retry-After for exactly the retryable codes, equal to the body's retryAfterSeconds", () => {
    for (const code of Object.keys(HTTP_STATUS) as ClipEdgeErrorCode[]) {
      if (code === "internal") continue;
      const http = httpErrorOf(new ClipEdgeError(code, "x"));
      const header = http.headers["Retry-After"];
      expect(header !== undefined, code).toBe(RETRY_AFTER_SECONDS[code] !== undefined);
      if (header !== undefined) {
        expect(http.status, code).toBe(503);
        expect(http.body.error.details?.retryAfterSeconds).toBe(Number(header));
      }
    }
  });

  it("rounds the error's own wait up to whole seconds, the same in header and body", () => {
    const open = new ClipEdgeError("origin_unavailable", "circuit open", {
      details: { retryAfterSeconds: 9.2 },
    });
    const http = httpErrorOf(open);
    expect(http.headers["Retry-After"]).toBe("10");
    expect(http.body.error.details).toEqual({ retryAfterSeconds: 10 });
    const quick = httpErrorOf(
      new ClipEdgeError("overloaded", "busy", { details: { retryAfterSeconds: 0.01 } }),
    );
    expect(quick.headers["Retry-After"]).toBe("1");
  });

  it("asks for bearer credentials on 401 and hides internal failures", () => {
    expect(httpErrorOf(new ClipEdgeError("unauthorized", "no key")).headers).toEqual({
      "WWW-Authenticate": 'Bearer realm="clip-edge"',
    });
    for (const error of [new Error("/secret/path"), new ClipEdgeError("internal", "/secret")]) {
      expect(httpErrorOf(error)).toEqual({
        status: 500,
        body: { error: { code: "internal", message: "internal error" } },
        headers: {},
      });
    }
  });
});
