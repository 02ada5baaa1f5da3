import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { post, worker } from "./helpers/client.ts";
import { fixtureBytes, seedBundle, testEnv } from "./helpers/seed.ts";

beforeAll(async () => {
  const manifest = await seedBundle();
  // A bundle whose graph does not match the manifest's SHA-256.
  const broken = {
    ...manifest,
    graphs: manifest.graphs.map((g) => ({ ...g, sha256: "0".repeat(64) })),
  };
  await testEnv.MODELS.put("broken/manifest.json", JSON.stringify(broken));
  for (const file of [...manifest.tokenizer.files, manifest.graphs[0].file]) {
    await testEnv.MODELS.put(`broken/${file}`, await fixtureBytes(`bundle/${file}`));
  }
});

async function expectError(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const text = await response.text();
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(text).not.toMatch(/\bat .*\.ts:\d+|<html/i);
  return body.error.message;
}

describe("bad requests get their status and a JSON error body", () => {
  it("400 malformed JSON", async () => {
    const message = await expectError(await post("/v1/embeddings", "{ not json"), 400, "malformed");
    expect(message).toMatch(/not valid JSON/);
  });

  it("415 not application/json", async () => {
    const response = await worker.fetch("http://clip-edge/v1/embeddings", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "a cat",
    });
    expect(await expectError(response, 415, "unsupported_media_type")).toMatch(/text\/plain/);
  });

  it("413 body, prompt length and prompt count over the limits", async () => {
    const big = await post("/v1/embeddings", { input: "x".repeat(70_000) });
    expect(await expectError(big, 413, "too_large")).toMatch(/MAX_BODY_BYTES/);
    // Streamed, no Content-Length: the cap of a text route holds while reading.
    const chunk = new TextEncoder().encode(`{"prompt": "${"x".repeat(40_000)}`);
    const streamed = await worker.fetch("http://clip-edge/v1/tokenize", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(chunk);
          controller.enqueue(chunk);
          controller.close();
        },
      }),
    });
    expect(await expectError(streamed, 413, "too_large")).toMatch(/MAX_BODY_BYTES/);
    const long = await post("/v1/embeddings", { input: "cat ".repeat(1200) });
    expect(await expectError(long, 413, "too_large")).toMatch(/MAX_PROMPT_CHARS/);
    const many = await post("/v1/conditioning", { prompts: Array.from({ length: 65 }, () => "a") });
    expect(await expectError(many, 413, "too_large")).toMatch(/MAX_PROMPTS/);
  });

  it("422 valid JSON, invalid request", async () => {
    expect(
      await expectError(await post("/v1/embeddings", { input: 5 }), 422, "invalid_request"),
    ).toMatch(/input/);
    const both = await post("/v1/conditioning", { prompt: "a", prompts: ["b"] });
    expect(await expectError(both, 422, "invalid_request")).toMatch(/exactly one of prompt/);
    const format = await post("/v1/conditioning", { prompt: "a", format: "pickle" });
    expect(await expectError(format, 422, "invalid_request")).toMatch(/format/);
    const skip = await post("/v1/conditioning", { prompt: "a", clip_skip: 9 });
    expect(await expectError(skip, 422, "invalid_request")).toMatch(/9|K=/);
    const dims = await post("/v1/embeddings", { input: "a", dimensions: 100_000 });
    expect(await expectError(dims, 422, "invalid_request")).toMatch(/dimensions/);
  });

  it("404 unknown model and unknown route", async () => {
    const model = await post("/v1/embeddings", { input: "a", model: "no-such-model" });
    expect(await expectError(model, 404, "not_found")).toMatch(/no-such-model/);
    await expectError(await worker.fetch("http://clip-edge/v2/nothing"), 404, "not_found");
  });

  it("500 model that fails SHA-256 verification (a server fault, no Retry-After)", async () => {
    const response = await post("/v1/embeddings", { input: "a", model: "broken" });
    expect(response.headers.get("retry-after")).toBeNull();
    expect(await expectError(response, 500, "integrity")).toMatch(/SHA-256/);
  });
});

describe("API keys", () => {
  const app = createWorkerApp({
    env: { MODELS: env.MODELS, DEFAULT_MODEL: "tiny-openai", API_KEYS: "key-one, key-two" },
    runtime: createWorkerOrtRuntime,
  });
  const call = (headers: Record<string, string>) =>
    app.request("/v1/tokenize", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ prompt: "a (red:1.2) cat", weighting: "a1111" }),
    });

  it("401 for a missing or wrong key, 200 for either configured key", async () => {
    const missing = await call({});
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer /);
    await expectError(missing, 401, "unauthorized");
    await expectError(await call({ authorization: "Bearer key-three" }), 401, "unauthorized");
    await expectError(await call({ authorization: "Basic a2V5LW9uZQ==" }), 401, "unauthorized");
    const ok = await call({ authorization: "Bearer key-two" });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as {
      tokens: { token: string; weight: number }[];
      window: number;
    };
    expect(body.window).toBe(75);
    expect(body.tokens.find((t) => t.token === "red</w>")?.weight).toBeCloseTo(1.2);
    expect(body.tokens.find((t) => t.token === "cat</w>")?.weight).toBe(1);
  });

  it("/healthz and /readyz stay open; /readyz says whether keys are on", async () => {
    expect((await app.request("/healthz")).status).toBe(200);
    const ready = (await (await app.request("/readyz")).json()) as { auth: string };
    expect(ready.auth).toBe("api_keys");
    const open = (await (await worker.fetch("http://clip-edge/readyz")).json()) as { auth: string };
    expect(open.auth).toBe("open");
  });
});

describe("GET /openapi.json", () => {
  it("documents every route from the zod schemas", async () => {
    const doc = (await (await worker.fetch("http://clip-edge/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/healthz",
        "/readyz",
        "/v1/conditioning",
        "/v1/embeddings",
        "/v1/models",
        "/v1/models/{id}",
        "/v1/score",
        "/v1/tokenize",
        "/v1/files",
        "/v1/files/{id}",
        "/v1/files/{id}/content",
        "/v1/batches",
        "/v1/batches/{id}",
        "/v1/batches/{id}/cancel",
      ].sort(),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["EmbeddingsRequest", "Batch", "BatchCreateRequest", "FileObject"]),
    );
  });
});
