/**
 * The origin's HTTP API (Hono). Sessions, preprocessing and configuration are passed in,
 * so tests drive it with a real onnxruntime-node session and no network.
 *
 *   GET  /healthz                 liveness (no auth)
 *   GET  /readyz                  200 when models are loaded and the queue has room (no auth)
 *   POST /v1/image-embeddings     images -> image_embeds (dynamic batching)
 *   POST /v1/text-embeddings      { input: string | string[] } -> text_embeds / pooled
 */
import { Hono } from "hono";
import { ClipEdgeError, httpErrorOf } from "../../conditioning/errors.ts";
import {
  type ImageEmbeddingsResponse,
  type OriginInfo,
  parseWire,
  TextEmbeddingsRequestSchema,
  type TextEmbeddingsResponse,
  TextGraphRunRequestSchema,
  type TextGraphRunResponse,
} from "../../conditioning/protocol/origin-wire.ts";
import type { ImagePreprocessor } from "../../node/image/image-preprocessor.ts";
import { type BatcherStats, createDynamicBatcher } from "../../node/runtime/dynamic-batcher.ts";
import { l2Normalize, type VisionEncoder } from "../../node/runtime/vision-encoder.ts";
import { type BearerCheck, createBearerCheck } from "./auth.ts";
import type { OriginTextEmbedder } from "./origin-text-embedder.ts";
import { parseJson, readCapped, readImageRequest } from "./request-images.ts";
import type { TextGraphRunner } from "./text-graph-run.ts";

export interface BatchingOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Images allowed to wait for the device; beyond it requests get 503 + Retry-After. */
  maxQueue: number;
}

export interface OriginAppOptions {
  /** Shared secret with the worker (ORIGIN_SECRET), at least 16 characters. */
  secret: string;
  /** Name reported as `model` in responses. */
  model: string;
  vision?: { encoder: VisionEncoder; preprocessor: ImagePreprocessor };
  text?: OriginTextEmbedder;
  /** Remote `session.run` of the text graph for the worker's conditioning core. */
  textGraph?: TextGraphRunner;
  batching?: Partial<BatchingOptions>;
  limits?: { maxRequestBytes?: number; maxImagesPerRequest?: number; maxTexts?: number };
  /** Execution provider actually in use, reported by /readyz. */
  provider?: string;
  log?: (line: string) => void;
}

export interface OriginApp {
  app: Hono;
  fetch: (request: Request) => Response | Promise<Response>;
  stats(): BatcherStats | undefined;
  /** Stops accepting work; queued images are rejected with 503. */
  close(): void;
}

const TEXT_BODY_LIMIT = 4 * 1024 * 1024;

export const DEFAULT_BATCHING: BatchingOptions = { maxBatch: 32, maxWaitMs: 5, maxQueue: 256 };

function jsonError(error: unknown, log: (line: string) => void): Response {
  const http = httpErrorOf(error);
  // Server faults go to the log; the temporary 503s (shutting down, queue full) do not.
  if (http.status >= 500 && !("Retry-After" in http.headers)) {
    log(`origin: ${http.status} ${(error as Error)?.stack ?? String(error)}`);
  }
  return new Response(JSON.stringify(http.body), {
    status: http.status,
    headers: { "content-type": "application/json", ...http.headers },
  });
}

function parseTexts(json: unknown, maxTexts: number): { texts: string[]; normalize: boolean } {
  const o = parseWire(TextEmbeddingsRequestSchema, json, "text-embeddings body", "invalid_input");
  const input = o.input ?? o.texts ?? o.prompts ?? [];
  const texts = typeof input === "string" ? [input] : input;
  if (texts.length > maxTexts) {
    throw new ClipEdgeError(
      "too_large",
      `request has ${texts.length} texts, the limit is ${maxTexts}`,
    );
  }
  return { texts, normalize: o.normalize === true };
}

export function createOriginApp(options: OriginAppOptions): OriginApp {
  const log = options.log ?? ((line: string) => console.error(line));
  const checkBearer: BearerCheck = createBearerCheck(options.secret);
  const batching = { ...DEFAULT_BATCHING, ...options.batching };
  const maxImagesPerRequest = options.limits?.maxImagesPerRequest ?? 64;
  const maxRequestBytes = options.limits?.maxRequestBytes ?? 64 * 1024 * 1024;
  const maxTexts = options.limits?.maxTexts ?? 256;
  const vision = options.vision;
  const batcher = vision
    ? createDynamicBatcher<Float32Array, Float32Array>({
        ...batching,
        runBatch: (images) => vision.encoder.encode(images),
      })
    : undefined;
  let closed = false;
  const app = new Hono();

  app.onError((error) => jsonError(error, log));
  app.notFound((c) =>
    jsonError(new ClipEdgeError("not_found", `no route ${c.req.method} ${c.req.path}`), log),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const stats = batcher?.stats();
    const full = stats !== undefined && stats.queued >= batching.maxQueue;
    const ready = !closed && !full;
    return c.json(
      {
        status: ready ? "ready" : "unavailable",
        ...(ready ? {} : { reason: closed ? "shutting down" : "queue full" }),
        model: options.model,
        provider: options.provider ?? "unknown",
        vision: Boolean(vision),
        text: Boolean(options.text),
        queue: stats
          ? { queued: stats.queued, running: stats.running, max: batching.maxQueue }
          : undefined,
      },
      ready ? 200 : 503,
      ready ? {} : { "retry-after": "1" },
    );
  });

  app.use("/v1/*", async (c, next) => {
    checkBearer(c.req.header("authorization"));
    if (closed)
      throw new ClipEdgeError("unavailable", "origin is shutting down", {
        details: { retryAfterSeconds: 5 },
      });
    await next();
  });

  app.post("/v1/image-embeddings", async (c) => {
    if (!vision || !batcher) {
      throw new ClipEdgeError("not_found", `model ${options.model} has no vision tower`);
    }
    const request = await readImageRequest(c.req.raw, { maxRequestBytes, maxImagesPerRequest });
    const pixels = await Promise.all(
      request.images.map((bytes, index) =>
        vision.preprocessor.preprocess(bytes, { label: `images[${index}]` }),
      ),
    );
    const embeds = await batcher.submit(pixels);
    const response: ImageEmbeddingsResponse = {
      model: options.model,
      data: embeds.map((e, index) => ({
        index,
        image_embeds: Array.from(request.normalize ? l2Normalize(e) : e),
      })),
    };
    return c.json(response);
  });

  app.post("/v1/text-embeddings", async (c) => {
    const text = options.text;
    if (!text) throw new ClipEdgeError("not_found", `model ${options.model} has no text tower`);
    const json = parseJson(await readCapped(c.req.raw, TEXT_BODY_LIMIT));
    const { texts, normalize } = parseTexts(json, maxTexts);
    const results = await text.embed(texts);
    const response: TextEmbeddingsResponse = {
      model: options.model,
      data: results.map((r, index) => ({
        index,
        ...(r.text_embeds
          ? { text_embeds: Array.from(normalize ? l2Normalize(r.text_embeds) : r.text_embeds) }
          : {}),
        ...(r.pooled ? { pooled: Array.from(r.pooled) } : {}),
        num_tokens: r.num_tokens,
        truncated: r.truncated,
      })),
    };
    return c.json(response);
  });

  app.get("/v1/info", (c) => {
    const info: OriginInfo = {
      model: options.model,
      provider: options.provider ?? "unknown",
      vision: vision ? { imageSize: vision.encoder.imageSize } : null,
      text: Boolean(options.text),
      textGraph: options.textGraph
        ? {
            inputNames: [...options.textGraph.inputNames],
            outputNames: [...options.textGraph.outputNames],
          }
        : null,
    };
    return c.json(info);
  });

  app.post("/v1/text-graph/run", async (c) => {
    const runner = options.textGraph;
    if (!runner) throw new ClipEdgeError("not_found", `model ${options.model} has no text graph`);
    const body = parseJson(await readCapped(c.req.raw, TEXT_BODY_LIMIT));
    const request = parseWire(TextGraphRunRequestSchema, body, "text-graph body", "invalid_input");
    const response: TextGraphRunResponse = { model: options.model, ...(await runner.run(request)) };
    return c.json(response);
  });

  return {
    app,
    fetch: (request) => app.fetch(request),
    stats: () => batcher?.stats(),
    close() {
      closed = true;
      batcher?.close();
    },
  };
}
