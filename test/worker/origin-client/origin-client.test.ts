import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImagePreprocessor } from "../../../node/image/image-preprocessor.ts";
import { createVisionEncoder } from "../../../node/runtime/vision-encoder.ts";
import { createOriginApp, type OriginApp } from "../../../origin/server/app.ts";
import { type RunningOrigin, serveOrigin } from "../../../origin/server/serve.ts";
import {
  createOriginClient,
  type OriginClientOptions,
} from "../../../worker/origin-client/origin-client.ts";
import { codeOf } from "../../helpers/error-code.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import {
  FIXTURE_IMAGES,
  maxAbsDiff,
  readFixtureImage,
  readTensor,
  sharpFactory,
  tinyOpenaiPreprocessor,
} from "../../origin/helpers.ts";
import { tinyOpenaiVisionSession } from "../../origin/tiny-vision.ts";
import { startLocalServer } from "./local-server.ts";

const SECRET = "worker-origin-secret-0123";

describe("origin client against the real origin (tiny-openai vision, onnxruntime-node)", () => {
  let origin: OriginApp;
  let running: RunningOrigin;
  const png = { bytes: readFixtureImage("camera.png"), contentType: "image/png" };

  async function serve(port = 0): Promise<RunningOrigin> {
    const session = await tinyOpenaiVisionSession();
    origin = createOriginApp({
      secret: SECRET,
      model: "tiny-openai",
      vision: {
        encoder: createVisionEncoder({
          session,
          tensor: session.tensor,
          imageShape: [3, 224, 224],
        }),
        preprocessor: createImagePreprocessor({
          sharp: sharpFactory,
          config: tinyOpenaiPreprocessor(),
          decode: { maxBytes: 1_000_000 },
        }),
      },
      batching: { maxBatch: 8, maxWaitMs: 2, maxQueue: 64 },
      log: () => {},
    });
    return serveOrigin(origin, { port });
  }

  beforeAll(async () => {
    running = await serve();
  });
  afterAll(async () => {
    await running?.close();
  });

  const client = (extra: Partial<OriginClientOptions> = {}) =>
    createOriginClient({
      baseUrl: running.url,
      secret: SECRET,
      fetch: (input, init) => fetch(input, init),
      timeoutMs: 5000,
      retries: 1,
      backoffMs: 5,
      ...extra,
    });

  it("gets golden image_embeds for the fixture photos", async () => {
    const golden = readTensor(
      fixturePath("models", "tiny-openai", "golden.safetensors"),
      "image_embeds",
    );
    const images = FIXTURE_IMAGES.map((n) => ({ bytes: readFixtureImage(n) }));
    const result = await client().embedImages(images);
    expect(result.model).toBe("tiny-openai");
    for (const [i, d] of result.data.entries()) {
      expect(d.index).toBe(i);
      expect(maxAbsDiff(d.image_embeds, golden.data, i * golden.shape[1])).toBeLessThanOrEqual(
        1e-4,
      );
    }
    const normalized = await client().embedImages([png], { normalize: true });
    expect(Math.hypot(...normalized.data[0].image_embeds)).toBeCloseTo(1, 5);
  });

  it("passes the origin's 4xx through without tripping the breaker", async () => {
    const c = client({ breaker: { failureThreshold: 1, resetMs: 60_000 } });
    expect(await codeOf(c.embedImages([{ bytes: new Uint8Array(2_000_000) }]))).toBe("too_large");
    expect(await codeOf(c.embedImages([{ bytes: new TextEncoder().encode("not an image") }]))).toBe(
      "unsupported_media_type",
    );
    expect(c.breakerState()).toBe("closed");
    expect(await codeOf(c.embedTexts(["a dog"]))).toBe("not_found"); // no text tower here
    const wrong = client({ secret: "wrong-secret-000000000000" });
    expect(await codeOf(wrong.embedImages([png]))).toBe("origin_unavailable");
  });

  it("opens the breaker when the origin stops, fails fast, and recovers when it returns", async () => {
    let t = 0;
    let calls = 0;
    const c = client({
      now: () => t,
      timeoutMs: 2000,
      retries: 1,
      breaker: { failureThreshold: 2, resetMs: 1000 },
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    expect(await codeOf(c.embedImages([png]))).toBe("ok");
    const port = running.port;
    await running.close();

    // Connection refused: two attempts (1 retry) reach the threshold of 2.
    const started = performance.now();
    calls = 0;
    expect(await codeOf(c.embedImages([png]))).toBe("origin_unavailable");
    expect(calls).toBe(2);
    expect(c.breakerState()).toBe("open");
    // Open: fails without touching the network.
    const error = await c.embedImages([png]).catch((e) => e);
    expect(error.code).toBe("origin_unavailable");
    expect(error.details.retryAfterSeconds).toBe(1);
    expect(calls).toBe(2);
    expect(performance.now() - started).toBeLessThan(2000);

    // Origin back on the same port; the breaker still refuses until resetMs has passed.
    running = await serve(port);
    expect(await codeOf(c.embedImages([png]))).toBe("origin_unavailable");
    t = 1000;
    expect(c.breakerState()).toBe("half-open");
    expect(await codeOf(c.embedImages([png]))).toBe("ok");
    expect(c.breakerState()).toBe("closed");
  });
});

describe("origin client failure handling (scripted local server)", () => {
  it("retries 502/503/504 with jittered backoff, then succeeds", async () => {
    const statuses = [503, 502, 200];
    const server = await startLocalServer((req, res) => {
      req.resume();
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          status === 200
            ? { model: "m", data: [] }
            : { error: { code: "unavailable", message: "x" } },
        ),
      );
    });
    const sleeps: number[] = [];
    const c = createOriginClient({
      baseUrl: server.url,
      secret: SECRET,
      fetch: (input, init) => fetch(input, init),
      retries: 2,
      backoffMs: 100,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const result = await c.embedTexts(["x"]);
    await server.close();
    expect(result.model).toBe("m");
    expect(sleeps).toEqual([75, 150]); // cap/2 + random*cap/2 with cap = 100, 200
  });

  it("times out a hung origin within timeoutMs and does not retry it", async () => {
    let requests = 0;
    const server = await startLocalServer((req) => {
      requests++;
      req.resume(); // never answers
    });
    const c = createOriginClient({
      baseUrl: server.url,
      secret: SECRET,
      fetch: (input, init) => fetch(input, init),
      timeoutMs: 200,
      retries: 3,
    });
    const started = performance.now();
    const error = await c.embedTexts(["x"]).catch((e) => e);
    const elapsed = performance.now() - started;
    await server.close();
    expect(error.code).toBe("origin_unavailable");
    expect(error.message).toContain("200 ms");
    expect(elapsed).toBeLessThan(1500);
    expect(requests).toBe(1);
  });

  it.each([
    [503, "the origin's own queue full (503 + Retry-After, code overloaded)"],
    [429, "a proxy's rate limit"],
  ])(
    "maps %i overloaded to overloaded with the origin's Retry-After, no retry (%s)",
    async (status) => {
      let requests = 0;
      const server = await startLocalServer((req, res) => {
        requests++;
        req.resume();
        res.writeHead(status, { "content-type": "application/json", "retry-after": "7" });
        res.end(JSON.stringify({ error: { code: "overloaded", message: "queue full" } }));
      });
      const c = createOriginClient({
        baseUrl: server.url,
        secret: SECRET,
        fetch: (i, n) => fetch(i, n),
        sleep: async () => {},
      });
      const error = await c.embedTexts(["x"]).catch((e) => e);
      await server.close();
      expect(error.code).toBe("overloaded");
      expect(error.details.retryAfterSeconds).toBe(7);
      expect(requests).toBe(1);
      expect(c.breakerState()).toBe("closed");
    },
  );

  it("counts an answer that does not match the wire protocol as an origin failure", async () => {
    const server = await startLocalServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ model: "m", data: [{ index: 0, image_embeds: "nope" }] }));
    });
    const c = createOriginClient({
      baseUrl: server.url,
      secret: SECRET,
      fetch: (i, n) => fetch(i, n),
      breaker: { failureThreshold: 1 },
    });
    const error = await c.embedImages([{ bytes: new Uint8Array(8) }]).catch((e) => e);
    await server.close();
    expect(error.code).toBe("origin_unavailable");
    expect(error.message).toMatch(/data\.0\.image_embeds/);
    expect(c.breakerState()).toBe("open");
  });

  it("validates its configuration", () => {
    const f = (i: Request | string | URL, n?: RequestInit) => fetch(i, n);
    expect(() => createOriginClient({ baseUrl: "ftp://x", secret: SECRET, fetch: f })).toThrow(
      /http/,
    );
    expect(() => createOriginClient({ baseUrl: "http://x", secret: "", fetch: f })).toThrow(
      /ORIGIN_SECRET/,
    );
  });

  it("a hung origin costs probeTimeoutMs per half-open probe, not timeoutMs", async () => {
    let hang = false;
    const paths: string[] = [];
    const server = await startLocalServer((req, res) => {
      paths.push(req.url ?? "");
      req.resume();
      if (hang) return; // accepts the connection, never answers
      res.writeHead(503, { "content-type": "application/json" });
      res.end("{}");
    });
    let t = 0;
    const c = createOriginClient({
      baseUrl: server.url,
      secret: SECRET,
      fetch: (i, n) => fetch(i, n),
      now: () => t,
      retries: 0,
      timeoutMs: 60_000,
      probeTimeoutMs: 50,
      breaker: { failureThreshold: 1, resetMs: 1000 },
    });
    expect(await codeOf(c.embedImages([{ bytes: new Uint8Array(8) }]))).toBe("origin_unavailable");
    expect(c.breakerState()).toBe("open");
    hang = true;
    t = 1000;
    paths.length = 0;
    const error = await c.embedImages([{ bytes: new Uint8Array(8) }]).catch((e) => e);
    expect(error.code).toBe("origin_unavailable");
    expect(error.message).toMatch(/probe GET \/readyz: no answer within 50 ms/);
    expect(paths).toEqual(["/readyz"]); // the image request itself was never sent
    expect(c.breakerState()).toBe("open");
    t = 2000;
    expect(await c.ready()).toBe(false); // ready() has the probe timeout too
    await server.close();
  });
});
