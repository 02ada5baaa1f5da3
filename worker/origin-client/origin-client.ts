/**
 * The worker's client for the GPU origin (origin/). Runtime-agnostic: only `fetch`,
 * AbortController, FormData/Blob and timers, so it runs in workerd and in Node.
 *
 * - every attempt has a timeout (`timeoutMs`, `AbortSignal.timeout`, joined with the
 *   caller's signal by `AbortSignal.any`);
 * - bodies both ways follow the shared zod protocol (conditioning/protocol/origin-wire.ts);
 *   an answer that does not match it counts as an origin failure;
 * - connection errors and 502/503/504 are retried (`retries` times) after a jittered
 *   exponential backoff - embedding requests are idempotent;
 * - a circuit breaker fails fast while the origin is down (ClipEdgeError "origin_unavailable",
 *   with `retryAfterSeconds`), and lets one probe through after `resetMs`;
 * - the origin's own 4xx answers (bad image, too large, ...) are passed through with their
 *   code and message and do not count against the origin; "overloaded" (503 + Retry-After
 *   with that code, or a proxy's 429) is passed through with the origin's wait, not retried.
 */
import type { z } from "zod";
import { ClipEdgeError, type ClipEdgeErrorCode, HTTP_STATUS } from "../../conditioning/errors.ts";
import {
  ErrorBodySchema,
  type ImageEmbeddingsResponse,
  ImageEmbeddingsResponseSchema,
  type OriginInfo,
  OriginInfoSchema,
  type TextEmbeddingsRequest,
  type TextEmbeddingsResponse,
  TextEmbeddingsResponseSchema,
  type TextGraphRunRequest,
  type TextGraphRunResponse,
  TextGraphRunResponseSchema,
  type WireTensor,
} from "../../conditioning/protocol/origin-wire.ts";
import { type BreakerState, createCircuitBreaker } from "./circuit-breaker.ts";

export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export interface OriginClientOptions {
  /** ORIGIN_URL, e.g. "https://origin.example.com" (or a service binding's placeholder URL). */
  baseUrl: string;
  /** ORIGIN_SECRET, sent as `Authorization: Bearer <secret>`. */
  secret: string;
  /** `fetch`, or a service binding's `fetch` bound to it. */
  fetch: FetchLike;
  /** Per attempt, ms (default 10000). */
  timeoutMs?: number;
  /**
   * The origin's GET /readyz (`ready()`, and the check that goes first when the breaker is
   * half-open), ms (default 2000, at most `timeoutMs`): an origin that accepts connections
   * but never answers costs this much per probe, not `timeoutMs`.
   */
  probeTimeoutMs?: number;
  /** Extra attempts for connection errors and 502/503/504 (default 2). */
  retries?: number;
  /** First backoff, ms (default 100); doubled per retry, full jitter. */
  backoffMs?: number;
  breaker?: { failureThreshold?: number; resetMs?: number };
  now?: () => number;
  /** [0, 1) random source for jitter. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface OriginImage {
  bytes: Uint8Array;
  /** e.g. "image/png"; defaults to application/octet-stream (the origin sniffs the bytes). */
  contentType?: string;
}

export interface OriginClient {
  /** GET /v1/info: what the origin serves. */
  info(options?: { signal?: AbortSignal }): Promise<OriginInfo>;
  /** POST /v1/text-graph/run: one remote `session.run` of the origin's text graph. */
  runTextGraph(
    inputs: Record<string, WireTensor>,
    fetches: readonly string[],
    options?: { signal?: AbortSignal },
  ): Promise<TextGraphRunResponse>;
  embedImages(
    images: readonly OriginImage[],
    options?: { normalize?: boolean; signal?: AbortSignal },
  ): Promise<ImageEmbeddingsResponse>;
  embedTexts(
    texts: readonly string[],
    options?: { normalize?: boolean; signal?: AbortSignal },
  ): Promise<TextEmbeddingsResponse>;
  /** GET /readyz through the breaker; true when the origin answers 200. */
  ready(): Promise<boolean>;
  breakerState(): BreakerState;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const PASS_THROUGH: Partial<Record<number, ClipEdgeErrorCode>> = {
  400: "malformed",
  404: "not_found",
  413: "too_large",
  415: "unsupported_media_type",
  422: "invalid_request",
};

/** The origin's own 4xx codes, passed through as they are (credentials excepted). */
const KNOWN_CODES = new Set<string>(
  Object.entries(HTTP_STATUS)
    .filter(([code, status]) => status >= 400 && status < 500 && code !== "unauthorized")
    .map(([code]) => code),
);

class AttemptFailure extends Error {
  constructor(
    readonly retryable: boolean,
    readonly reason: string,
    readonly status?: number,
  ) {
    super(reason);
  }
}

async function errorFromBody(response: Response): Promise<{ code?: string; message?: string }> {
  try {
    const body = ErrorBodySchema.safeParse(await response.json());
    return body.success ? body.data.error : {};
  } catch {
    return {};
  }
}

function retryAfterSeconds(response: Response, fallback: number): number {
  const header = Number(response.headers.get("retry-after"));
  return Number.isFinite(header) && header > 0 ? header : fallback;
}

export function createOriginClient(options: OriginClientOptions): OriginClient {
  const base = options.baseUrl.replace(/\/+$/, "");
  if (!/^https?:\/\//.test(base)) {
    throw new ClipEdgeError(
      "invalid_input",
      `ORIGIN_URL must be an http(s) URL, got "${options.baseUrl}"`,
    );
  }
  if (!options.secret) throw new ClipEdgeError("invalid_input", "ORIGIN_SECRET is not set");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const probeTimeoutMs = Math.min(options.probeTimeoutMs ?? 2000, timeoutMs);
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 100;
  const now = options.now ?? (() => Date.now());
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const breaker = createCircuitBreaker({
    failureThreshold: options.breaker?.failureThreshold ?? 5,
    resetMs: options.breaker?.resetMs ?? 10_000,
    now,
  });

  /** One attempt: resolves with a 2xx body that matches `schema`, or throws AttemptFailure / ClipEdgeError. */
  async function attempt<T>(
    path: string,
    init: () => RequestInit,
    schema: z.ZodType<T> | undefined,
    outer?: AbortSignal,
    limitMs = timeoutMs,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(limitMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    let response: Response;
    try {
      response = await options.fetch(`${base}${path}`, { ...init(), signal });
    } catch (error) {
      if (outer?.aborted) throw error;
      if (timeout.aborted) throw new AttemptFailure(false, `no answer within ${limitMs} ms`);
      throw new AttemptFailure(true, `connection failed: ${(error as Error)?.message ?? error}`);
    }
    if (response.ok) return readAnswer(response, schema, timeout, limitMs);
    // 502/504 come from proxies, not the origin: no error body worth reading.
    const body =
      response.status === 502 || response.status === 504 ? {} : await errorFromBody(response);
    if (response.status === 429 || body.code === "overloaded") {
      throw new ClipEdgeError(
        "overloaded",
        `origin is busy: ${body.message ?? `HTTP ${response.status}`}`,
        {
          details: {
            retryAfterSeconds: retryAfterSeconds(response, 1),
            originStatus: response.status,
          },
        },
      );
    }
    if (RETRYABLE_STATUS.has(response.status)) {
      await response.body?.cancel().catch(() => {});
      throw new AttemptFailure(true, `HTTP ${response.status}`, response.status);
    }
    const passCode = PASS_THROUGH[response.status];
    if (passCode) {
      const code =
        body.code && KNOWN_CODES.has(body.code) ? (body.code as ClipEdgeErrorCode) : passCode;
      throw new ClipEdgeError(code, body.message ?? `origin answered HTTP ${response.status}`);
    }
    if (response.status === 401 || response.status === 403) {
      throw new ClipEdgeError(
        "origin_unavailable",
        "origin rejected the worker's credentials (check ORIGIN_SECRET on both sides)",
        { details: { originStatus: response.status } },
      );
    }
    throw new AttemptFailure(
      false,
      `HTTP ${response.status}${body.code ? ` (${body.code})` : ""}`,
      response.status,
    );
  }

  async function readAnswer<T>(
    response: Response,
    schema: z.ZodType<T> | undefined,
    timeout: AbortSignal,
    limitMs: number,
  ): Promise<T> {
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      if (timeout.aborted)
        throw new AttemptFailure(false, `no complete answer within ${limitMs} ms`);
      throw new AttemptFailure(
        false,
        `unreadable answer: ${(error as Error).message}`,
        response.status,
      );
    }
    if (!schema) return json as T;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AttemptFailure(
        false,
        `answer does not match the protocol (${issue?.path.join(".") || "body"}: ${issue?.message})`,
        response.status,
      );
    }
    return parsed.data;
  }

  /** GET /readyz within probeTimeoutMs; any answer but a failure (e.g. a 4xx) counts as alive. */
  async function probe(signal?: AbortSignal): Promise<void> {
    try {
      await attempt("/readyz", () => ({ method: "GET" }), undefined, signal, probeTimeoutMs);
    } catch (error) {
      if (error instanceof AttemptFailure) {
        throw new AttemptFailure(
          error.retryable,
          `probe GET /readyz: ${error.reason}`,
          error.status,
        );
      }
      if (signal?.aborted) throw error;
    }
  }

  async function call<T>(
    path: string,
    init: () => RequestInit,
    schema: z.ZodType<T> | undefined,
    signal?: AbortSignal,
    limitMs = timeoutMs,
  ): Promise<T> {
    let lastReason = "";
    for (let i = 0; i <= retries; i++) {
      const admission = breaker.admit();
      if (!admission.allowed) {
        throw new ClipEdgeError(
          "origin_unavailable",
          `origin unavailable (circuit open after repeated failures${lastReason ? `; last: ${lastReason}` : ""})`,
          { details: { retryAfterSeconds: Math.max(1, Math.ceil(admission.retryAfterMs / 1000)) } },
        );
      }
      try {
        // Half-open: a short GET /readyz first, so a hung origin costs probeTimeoutMs.
        if (admission.probe && path !== "/readyz") await probe(signal);
        const result = await attempt(path, init, schema, signal, limitMs);
        breaker.onSuccess();
        return result;
      } catch (error) {
        if (!(error instanceof AttemptFailure)) {
          // The origin answered (4xx/429) or the caller aborted: no verdict on its health.
          breaker.onNeutral();
          if (error instanceof ClipEdgeError && error.code === "origin_unavailable")
            breaker.onFailure();
          throw error;
        }
        breaker.onFailure();
        lastReason = error.reason;
        if (!error.retryable || i === retries) break;
        const cap = backoffMs * 2 ** i;
        await sleep(cap / 2 + random() * (cap / 2));
      }
    }
    throw new ClipEdgeError("origin_unavailable", `origin unavailable: ${lastReason}`, {
      details: { retryAfterSeconds: 5 },
    });
  }

  const auth = { authorization: `Bearer ${options.secret}` };

  return {
    embedImages(images, { normalize = false, signal } = {}) {
      if (images.length === 0) {
        return Promise.reject(new ClipEdgeError("invalid_input", "embedImages: no images"));
      }
      return call(
        `/v1/image-embeddings${normalize ? "?normalize=true" : ""}`,
        () => {
          const form = new FormData();
          images.forEach((image, i) => {
            const blob = new Blob([image.bytes as Uint8Array<ArrayBuffer>], {
              type: image.contentType ?? "application/octet-stream",
            });
            form.append("image", blob, `image-${i}`);
          });
          return { method: "POST", headers: auth, body: form };
        },
        ImageEmbeddingsResponseSchema,
        signal,
      );
    },
    embedTexts(texts, { normalize = false, signal } = {}) {
      const request: TextEmbeddingsRequest = { input: [...texts], normalize };
      return call(
        "/v1/text-embeddings",
        () => ({
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify(request),
        }),
        TextEmbeddingsResponseSchema,
        signal,
      );
    },
    info({ signal } = {}) {
      return call("/v1/info", () => ({ method: "GET", headers: auth }), OriginInfoSchema, signal);
    },
    runTextGraph(inputs, fetches, { signal } = {}) {
      const request: TextGraphRunRequest = { inputs, fetches: [...fetches] };
      return call(
        "/v1/text-graph/run",
        () => ({
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify(request),
        }),
        TextGraphRunResponseSchema,
        signal,
      );
    },
    async ready() {
      try {
        await call<unknown>(
          "/readyz",
          () => ({ method: "GET" }),
          undefined,
          undefined,
          probeTimeoutMs,
        );
        return true;
      } catch {
        return false;
      }
    },
    breakerState: () => breaker.state(),
  };
}
