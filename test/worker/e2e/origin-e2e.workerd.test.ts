/**
 * End to end, no mocks: the worker in workerd -> the real origin (Node, onnxruntime-node CPU,
 * tiny-openai with its vision tower) over HTTP, images given as base64 bytes or as URLs
 * the worker fetches itself from a Node server. Then the origin is stopped and restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureBytes, seedBundle } from "../helpers/seed.ts";
import {
  BREAKER_RESET_MS,
  createE2eApp,
  hangingOriginUrl,
  imageB64,
  imageUrl,
  jsonPost,
  ORIGIN_TIMEOUT_MS,
  origin,
} from "./e2e-app.ts";

interface GoldenImage {
  file: string;
  image_embeds_normalized: number[];
  scores: { text: string; cosine: number; clip_score: number }[];
}

const app = createE2eApp();
let golden: GoldenImage[];
/** Per golden image: `{ url }` or `{ b64 }`, alternating so both paths are covered. */
let inputs: ({ url: string } | { b64: string })[];
const prompts: string[] = [];

const fileOf = (g: GoldenImage) => g.file.split("/").pop()!;
const errorCode = async (r: Response) =>
  ((await r.json()) as { error: { code: string } }).error.code;
const post = (path: string, body: unknown) => app.request(path, jsonPost(body));

beforeAll(async () => {
  await seedBundle();
  golden = (
    JSON.parse(
      new TextDecoder().decode(await fixtureBytes("fixtures/models/tiny-openai/golden.json")),
    ) as { images: GoldenImage[] }
  ).images;
  inputs = await Promise.all(
    golden.map(async (g, i) =>
      i % 2 === 0 ? { b64: await imageB64(fileOf(g)) } : { url: imageUrl(fileOf(g)) },
    ),
  );
  for (const g of golden)
    for (const s of g.scores) if (!prompts.includes(s.text)) prompts.push(s.text);
});

afterAll(() => origin("start"));

/** Max |score - golden clip_score| over every golden (image, prompt) pair. */
function maxScoreDiff(scores: number[][]): number {
  let max = 0;
  golden.forEach((g, i) => {
    for (const s of g.scores) {
      max = Math.max(max, Math.abs(scores[i][prompts.indexOf(s.text)] - s.clip_score));
    }
  });
  return max;
}

describe("worker + real origin", () => {
  it("POST /v1/score with b64 and url images returns the golden CLIP scores", async () => {
    const started = Date.now();
    const response = await post("/v1/score", { images: inputs, prompts });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { scores: number[][] };
    expect(body.scores).toHaveLength(golden.length);
    const diff = maxScoreDiff(body.scores);
    console.log(
      `e2e /v1/score: ${golden.length} images (${inputs.filter((i) => "url" in i).length} by url) x ${prompts.length} prompts in ${Date.now() - started} ms; max |score - golden| = ${diff.toExponential(2)}`,
    );
    expect(diff).toBeLessThan(0.05);
  });

  it("POST /v1/embeddings embeds images (b64 and url) next to texts, normalised", async () => {
    const [cat, chelsea, coffee] = ["a photo of a cat", "chelsea.png", "coffee.png"];
    const response = await post("/v1/embeddings", {
      input: [
        cat,
        { image: { url: imageUrl(chelsea) } },
        { image: { b64: await imageB64(coffee) } },
      ],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      object: string;
      data: { object: string; index: number; embedding: number[] }[];
      usage: { prompt_tokens: number };
    };
    expect(body.object).toBe("list");
    expect(body.data.map((d) => [d.object, d.index])).toEqual([
      ["embedding", 0],
      ["embedding", 1],
      ["embedding", 2],
    ]);
    const [text, chelseaVec, coffeeVec] = body.data.map((d) => d.embedding);
    for (const v of [text, chelseaVec, coffeeVec]) {
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    const g = (file: string) => golden.find((x) => fileOf(x) === file)!;
    const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    expect(maxDiff(chelseaVec, g(chelsea).image_embeds_normalized)).toBeLessThan(1e-4);
    expect(maxDiff(coffeeVec, g(coffee).image_embeds_normalized)).toBeLessThan(1e-4);
    const cosine = text.reduce((a, x, i) => a + x * chelseaVec[i], 0);
    expect(cosine).toBeCloseTo(g(chelsea).scores.find((s) => s.text === cat)!.cosine, 3);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("an image alone, base64-encoded and cut to `dimensions`, in the OpenAI data[] shape", async () => {
    const response = await post("/v1/embeddings", {
      input: { image: { b64: await imageB64("camera.png") } },
      encoding_format: "base64",
      dimensions: 16,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { embedding: string }[]; usage: unknown };
    const bytes = Uint8Array.from(atob(body.data[0].embedding), (c) => c.charCodeAt(0));
    const vector = new Float32Array(bytes.buffer);
    expect(vector).toHaveLength(16);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    expect(body.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
  });

  it("the OpenAPI document describes image inputs of /v1/embeddings", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    expect(JSON.stringify(doc.components.schemas.EmbeddingsRequest)).toContain(
      "EmbeddingImageInput",
    );
    expect(JSON.stringify(doc.components.schemas.EmbeddingImageInput)).toContain("b64");
  });
});

describe("origin stopped, then restarted", () => {
  it("image routes answer 503 origin_unavailable in time, text routes still answer, images recover", async () => {
    // camera.png (index 4, as b64): the smallest fixture, so polling stays cheap.
    const probe = golden[4].scores[1];
    const imageScore = { images: [inputs[4]], prompts: [probe.text] };
    await origin("stop");

    let started = Date.now();
    const down = await post("/v1/score", imageScore);
    const downMs = Date.now() - started;
    expect(down.status).toBe(503);
    expect(await errorCode(down)).toBe("origin_unavailable");
    expect(downMs).toBeLessThan(ORIGIN_TIMEOUT_MS + 1000);

    started = Date.now();
    const downEmbeddings = await post("/v1/embeddings", {
      input: [{ image: { url: imageUrl("chelsea.png") } }],
    });
    const downEmbeddingsMs = Date.now() - started;
    expect(downEmbeddings.status).toBe(503);
    expect(await errorCode(downEmbeddings)).toBe("origin_unavailable");
    expect(downEmbeddingsMs).toBeLessThan(ORIGIN_TIMEOUT_MS + 1000);

    const text = await post("/v1/embeddings", { input: "a photo of a dog" });
    expect(text.status).toBe(200);
    const given = await post("/v1/score", {
      images: [{ embedding: golden[2].image_embeds_normalized }],
      prompts: ["a photo of a cat"],
    });
    expect(given.status).toBe(200);
    expect((await post("/v1/tokenize", { prompt: "a photo of a cat" })).status).toBe(200);

    // Repeated failures opened the circuit: image requests now fail fast, without the network.
    let openMs = Number.NaN;
    for (let i = 0; i < 5 && Number.isNaN(openMs); i++) {
      started = Date.now();
      const r = await post("/v1/score", imageScore);
      const ms = Date.now() - started;
      expect(r.status).toBe(503);
      const { error } = (await r.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("origin_unavailable");
      if (/circuit open/.test(error.message)) openMs = ms;
    }
    expect(openMs).toBeLessThan(1000);

    const restartMs = await origin("start");
    const restarted = Date.now();
    let recovered: Response | undefined;
    let attempts = 0;
    while (Date.now() - restarted < 10_000) {
      attempts++;
      const r = await post("/v1/score", imageScore);
      if (r.status === 200) {
        recovered = r;
        break;
      }
      expect(r.status).toBe(503);
      await r.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const recoveryMs = Date.now() - restarted;
    console.log(
      `e2e origin down: /v1/score 503 in ${downMs} ms, /v1/embeddings (url image) 503 in ${downEmbeddingsMs} ms (ORIGIN_TIMEOUT_MS=${ORIGIN_TIMEOUT_MS}), circuit open: ${openMs} ms; origin restart took ${restartMs} ms, then image routes recovered in ${recoveryMs} ms (${attempts} requests, ORIGIN_BREAKER_RESET_MS=${BREAKER_RESET_MS})`,
    );
    expect(recovered?.status).toBe(200);
    const body = (await recovered!.json()) as { scores: number[][] };
    expect(Math.abs(body.scores[0][0] - probe.clip_score)).toBeLessThan(0.05);
  });
});

describe("an origin that accepts connections but never answers", () => {
  it("image routes answer 503 after one ORIGIN_TIMEOUT_MS (a timed-out attempt is not retried)", async () => {
    const timeoutMs = 800;
    const hanging = createE2eApp({
      ORIGIN_URL: hangingOriginUrl(),
      ORIGIN_TIMEOUT_MS: String(timeoutMs),
    });
    const b64 = await imageB64("camera.png");
    const started = Date.now();
    const response = await hanging.request(
      "/v1/embeddings",
      jsonPost({ input: [{ image: { b64 } }] }),
    );
    const elapsed = Date.now() - started;
    console.log(`e2e hanging origin: 503 after ${elapsed} ms (ORIGIN_TIMEOUT_MS=${timeoutMs})`);
    expect(response.status).toBe(503);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("origin_unavailable");
    expect(error.message).toMatch(/no answer within 800 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(elapsed).toBeLessThan(timeoutMs + 1000);
  });
});
