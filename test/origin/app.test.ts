import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { createImagePreprocessor } from "../../node/image/image-preprocessor.ts";
import { createVisionEncoder } from "../../node/runtime/vision-encoder.ts";
import { createOriginApp, type OriginAppOptions } from "../../origin/server/app.ts";
import { readFixtureImage, sharpFactory, tinyOpenaiPreprocessor } from "./helpers.ts";
import { createMeanSession, plainTensor } from "./mean-session.ts";

const SECRET = "test-secret-0123456789";
const auth = { authorization: `Bearer ${SECRET}` };

function makeApp(
  session = createMeanSession(),
  extra: Partial<OriginAppOptions> = {},
  decode = { maxBytes: 2_000_000, maxPixels: 5_000_000 },
) {
  const preprocessor = createImagePreprocessor({
    sharp: sharpFactory,
    config: tinyOpenaiPreprocessor(),
    decode,
  });
  const encoder = createVisionEncoder({
    session: session.session,
    tensor: plainTensor,
    imageShape: [3, 224, 224],
  });
  const logs: string[] = [];
  const origin = createOriginApp({
    secret: SECRET,
    model: "tiny-openai",
    vision: { encoder, preprocessor },
    batching: { maxBatch: 8, maxWaitMs: 20, maxQueue: 16 },
    log: (l) => logs.push(l),
    ...extra,
  });
  return { origin, session, preprocessor, logs };
}

async function expected(name: string, preprocessor = makeApp().preprocessor): Promise<number[]> {
  const px = await preprocessor.preprocess(readFixtureImage(name));
  const plane = px.length / 3;
  return [0, 1, 2].map((c) => {
    let s = 0;
    for (let i = 0; i < plane; i++) s += px[c * plane + i];
    return Math.fround(s / plane);
  });
}

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies in assertions
type Json = any;

function post(
  body: NonNullable<RequestInit["body"]>,
  headers: Record<string, string>,
  path = "/v1/image-embeddings",
) {
  return new Request(`http://origin${path}`, { method: "POST", body, headers });
}

describe("origin app", () => {
  it("answers health and readiness without auth", async () => {
    const { origin } = makeApp();
    expect(
      (await (await origin.fetch(new Request("http://origin/healthz"))).json()) as Json,
    ).toEqual({
      status: "ok",
    });
    const ready = await origin.fetch(new Request("http://origin/readyz"));
    expect(ready.status).toBe(200);
    expect((await ready.json()) as Json).toMatchObject({
      status: "ready",
      model: "tiny-openai",
      vision: true,
    });
    origin.close();
    const closed = await origin.fetch(new Request("http://origin/readyz"));
    expect(closed.status).toBe(503);
    expect((await closed.json()) as Json).toMatchObject({
      status: "unavailable",
      reason: "shutting down",
    });
  });

  it("rejects missing and wrong bearer tokens with 401 JSON", async () => {
    const { origin, session } = makeApp();
    const bytes = readFixtureImage("camera.png");
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-secret-0123456789" },
      { authorization: SECRET },
    ];
    for (const headers of attempts) {
      const res = await origin.fetch(post(bytes, { "content-type": "image/png", ...headers }));
      expect(res.status).toBe(401);
      const body = (await res.json()) as Json;
      expect(body.error.code).toBe("unauthorized");
    }
    expect(session.batchSizes).toEqual([]);
  });

  it("refuses short secrets at construction", () => {
    expect(() => makeApp(createMeanSession(), { secret: "short" })).toThrow(/ORIGIN_SECRET/);
  });

  it("embeds raw bytes (image/* and octet-stream) with the preprocessed pixels", async () => {
    const { origin } = makeApp();
    for (const type of ["image/png", "application/octet-stream"]) {
      const res = await origin.fetch(
        post(readFixtureImage("camera.png"), { "content-type": type, ...auth }),
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(body.model).toBe("tiny-openai");
      expect(body.data).toHaveLength(1);
      expect(body.data[0].index).toBe(0);
      expect(body.data[0].image_embeds).toEqual(await expected("camera.png"));
    }
  });

  it("embeds a multipart batch and a JSON base64 batch in request order", async () => {
    const { origin } = makeApp();
    const names = ["rocket.jpg", "camera.png", "chelsea.png"];
    const form = new FormData();
    for (const n of names) form.append("image", new Blob([readFixtureImage(n)]), n);
    const multipart = (await (await origin.fetch(post(form, auth))).json()) as Json;
    const json = (await (
      await origin.fetch(
        post(
          JSON.stringify({
            images: [
              Buffer.from(readFixtureImage(names[0])).toString("base64"),
              { b64: Buffer.from(readFixtureImage(names[1])).toString("base64") },
              `data:image/png;base64,${Buffer.from(readFixtureImage(names[2])).toString("base64")}`,
            ],
          }),
          { "content-type": "application/json", ...auth },
        ),
      )
    ).json()) as Json;
    for (const body of [multipart, json]) {
      expect(body.data.map((d: { index: number }) => d.index)).toEqual([0, 1, 2]);
      for (const [i, n] of names.entries())
        expect(body.data[i].image_embeds).toEqual(await expected(n));
    }
  });

  it("normalizes on request", async () => {
    const { origin } = makeApp();
    const res = await origin.fetch(
      post(
        readFixtureImage("rocket.jpg"),
        { "content-type": "image/jpeg", ...auth },
        "/v1/image-embeddings?normalize=true",
      ),
    );
    const e: number[] = ((await res.json()) as Json).data[0].image_embeds;
    const raw = await expected("rocket.jpg");
    const norm = Math.hypot(...raw);
    expect(Math.hypot(...e)).toBeCloseTo(1, 6);
    for (const [i, v] of e.entries()) expect(v).toBeCloseTo(raw[i] / norm, 6);
  });

  it("batches concurrent requests into one session.run", async () => {
    const { origin, session } = makeApp(createMeanSession({ delayMs: 5 }), {
      batching: { maxBatch: 8, maxWaitMs: 150, maxQueue: 16 },
    });
    const bytes = readFixtureImage("camera.png");
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        origin.fetch(post(bytes, { "content-type": "image/png", ...auth })),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(session.batchSizes).toEqual([5]);
    expect(origin.stats()).toMatchObject({ batches: 1, items: 5 });
  });

  it("answers 503 overloaded with Retry-After (header and body agree) when the queue is full", async () => {
    const { origin, logs } = makeApp(createMeanSession({ delayMs: 300 }), {
      batching: { maxBatch: 1, maxWaitMs: 0, maxQueue: 1 },
    });
    const bytes = readFixtureImage("camera.png");
    const send = () => origin.fetch(post(bytes, { "content-type": "image/png", ...auth }));
    const responses = await Promise.all([send(), send(), send(), send()]);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toContain(200);
    const limited = responses.find((r) => r.status === 503);
    expect(limited).toBeDefined();
    const retryAfter = Number(limited?.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const body = (await (limited as Response).json()) as Json;
    expect(body.error.code).toBe("overloaded");
    expect(body.error.details?.retryAfterSeconds).toBe(retryAfter);
    expect(logs).toEqual([]); // a full queue is not a server fault
  });

  it("maps bad input to 4xx JSON errors", async () => {
    const { origin } = makeApp(createMeanSession(), {
      limits: { maxImagesPerRequest: 2, maxRequestBytes: 3_000_000 },
    });
    const bomb = await sharp({
      create: { width: 3000, height: 3000, channels: 3, background: "#000" },
    })
      .png()
      .toBuffer();
    const cases: [Request, number, string][] = [
      [post(bomb, { "content-type": "image/png", ...auth }), 413, "too_large"],
      [post(new Uint8Array(3_000_001), { "content-type": "image/png", ...auth }), 413, "too_large"],
      [post("GIF89a", { "content-type": "image/gif", ...auth }), 415, "unsupported_media_type"],
      [post("hello", { "content-type": "text/plain", ...auth }), 415, "unsupported_media_type"],
      [post(new Uint8Array(0), { "content-type": "image/png", ...auth }), 422, "invalid_input"],
      [
        post(readFixtureImage("rocket.jpg").subarray(0, 3000), {
          "content-type": "image/jpeg",
          ...auth,
        }),
        400,
        "malformed",
      ],
      [post("{", { "content-type": "application/json", ...auth }), 400, "malformed"],
      [
        post(JSON.stringify({ images: ["%%%"] }), { "content-type": "application/json", ...auth }),
        422,
        "invalid_input",
      ],
      [
        post(JSON.stringify({ images: ["a", "b", "c"] }), {
          "content-type": "application/json",
          ...auth,
        }),
        413,
        "too_large",
      ],
      [
        post(JSON.stringify({ images: [] }), { "content-type": "application/json", ...auth }),
        422,
        "invalid_input",
      ],
      [new Request("http://origin/nope", { headers: auth }), 404, "not_found"],
      [
        post(
          JSON.stringify({ input: "x" }),
          { "content-type": "application/json", ...auth },
          "/v1/text-embeddings",
        ),
        404,
        "not_found",
      ],
    ];
    for (const [request, status, code] of cases) {
      const res = await origin.fetch(request);
      const body = (await res.json()) as Json;
      expect(
        [res.status, body.error.code],
        `${request.method} ${request.url} ${body.error.message}`,
      ).toEqual([status, code]);
      expect(typeof body.error.message).toBe("string");
    }
  });

  it("hides internal failures behind a generic 500 (no stack, no paths)", async () => {
    const { origin, logs } = makeApp(createMeanSession({ fail: true }));
    const res = await origin.fetch(
      post(readFixtureImage("camera.png"), { "content-type": "image/png", ...auth }),
    );
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(text).not.toContain("/secret/path");
    expect(logs.join("\n")).toContain("device lost");
  });
});
