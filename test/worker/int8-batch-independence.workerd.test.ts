/**
 * Issue #11 through the worker: an int8 bundle's answer for a prompt does not
 * depend on the traffic it was micro-batched with. The prompt is sent alone,
 * then among 16 concurrent different requests (response cache off, so every
 * request reaches the batcher), and the answers must match to 1e-6. Batching
 * pads the rows to the longest sequence in the batch, so this also covers
 * padding past the prompt and the EOT-cut pooled run.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { seedBundle } from "./helpers/seed.ts";

const TARGET = "a photo of a dog on the beach";
const OTHERS = Array.from(
  { length: 16 },
  (_, i) =>
    `unrelated request ${i}: ${"a very long and winding description of a city at night ".repeat(i % 4)}${i % 3 ? "with neon" : "in the rain"}`,
);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe.each([
  ["tiny-int8-traffic", "bundle/variants/int8"],
  ["tiny-int8-edge-traffic", "bundle/variants/int8-edge"],
])("%s under concurrent traffic", (model, from) => {
  // A micro-batching window (the default is 0: an idle session runs at once), read by worker/config/limits.ts.
  // The encoded-row cache off: every request's rows really run, beside the others.
  const appEnv = {
    MODELS: env.MODELS,
    DEFAULT_MODEL: model,
    BATCH_WINDOW_MS: "20",
    ROW_CACHE_BYTES: "0",
  };
  const app = createWorkerApp({
    env: appEnv,
    runtime: createWorkerOrtRuntime,
    cache: () => undefined,
  });

  async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  // The same app with the encoded-row cache on (its default size).
  const cachedApp = createWorkerApp({
    env: { MODELS: env.MODELS, DEFAULT_MODEL: model },
    runtime: createWorkerOrtRuntime,
    cache: () => undefined,
  });

  async function largestBatch(): Promise<number> {
    const body = (await (await app.request("/readyz")).json()) as {
      sessions: { model: string; largest_batch: number }[];
    };
    return Math.max(
      0,
      ...body.sessions.filter((s) => s.model === model).map((s) => s.largest_batch),
    );
  }

  const embedding = (body: Record<string, unknown>) =>
    (body as { data: { embedding: number[] }[] }).data[0].embedding;
  const promptEmbeds = (body: Record<string, unknown>) =>
    (body as { tensors: { prompt_embeds: { data: number[] } } }).tensors.prompt_embeds.data;

  beforeAll(async () => {
    await seedBundle(model, from);
  });

  it("/v1/embeddings: the prompt alone == the prompt among 16 concurrent requests", async () => {
    const alone = embedding(await post("/v1/embeddings", { input: TARGET }));
    const answers = await Promise.all(
      [...OTHERS.slice(0, 8), TARGET, ...OTHERS.slice(8)].map((input) =>
        post("/v1/embeddings", { input }),
      ),
    );
    expect(await largestBatch()).toBeGreaterThan(1); // the batcher did group them
    expect(maxAbsDiff(alone, embedding(answers[8]))).toBeLessThanOrEqual(1e-6);
    // Inside one request beside another prompt, too.
    const pair = (await post("/v1/embeddings", { input: [OTHERS[3], TARGET] })) as {
      data: { embedding: number[] }[];
    };
    expect(maxAbsDiff(alone, pair.data[1].embedding)).toBeLessThanOrEqual(1e-6);
  });

  it("/v1/conditioning: last and penultimate states alone == among 16 concurrent requests", async () => {
    for (const clip_skip of [0, 1]) {
      const request = (prompt: string) => ({ preset: "sd15", prompt, clip_skip, format: "json" });
      const alone = promptEmbeds(await post("/v1/conditioning", request(TARGET)));
      const answers = await Promise.all(
        [TARGET, ...OTHERS].map((prompt) => post("/v1/conditioning", request(prompt))),
      );
      expect(
        maxAbsDiff(alone, promptEmbeds(answers[0])),
        `clip_skip ${clip_skip}`,
      ).toBeLessThanOrEqual(1e-6);
    }
    expect(await largestBatch()).toBeGreaterThan(8);
  });

  it("/v1/conditioning: a repeated negative prompt comes from the row cache, equal to encoding it", async () => {
    const negative = "blurry, low quality, watermark";
    const request = (prompt: string) => ({
      preset: "sd15",
      prompt,
      negative_prompt: negative,
      format: "json",
    });
    const tensors = (body: Record<string, unknown>) =>
      (body as { tensors: Record<string, { data: number[] }> }).tensors;
    const rowCache = async () => {
      const body = (await (await cachedApp.request("/readyz")).json()) as {
        sessions: { model: string; runs: number; row_cache?: { hits: number; misses: number } }[];
      };
      const s = body.sessions.find((x) => x.model === model);
      return { runs: s?.runs ?? 0, ...(s?.row_cache ?? { hits: 0, misses: 0 }) };
    };
    const prompts = [TARGET, OTHERS[1], OTHERS[2]];
    let firstRows = 0;
    for (const [i, prompt] of prompts.entries()) {
      const before = await rowCache();
      const cached = tensors(await cachedAppPost(request(prompt)));
      const fresh = tensors(await post("/v1/conditioning", request(prompt)));
      const after = await rowCache();
      for (const name of ["prompt_embeds", "negative_prompt_embeds"]) {
        expect(maxAbsDiff(cached[name].data, fresh[name].data), `${name} #${i}`).toBe(0);
      }
      // The first request encodes every row (prompt, negative, and the empty prompt where the
      // weighting uses it); later ones only their prompt, the rest are hits.
      if (i === 0) {
        firstRows = after.misses - before.misses;
        expect(firstRows).toBeGreaterThanOrEqual(2);
        expect(after.hits - before.hits).toBe(0);
      } else {
        expect(after.misses - before.misses).toBe(1);
        expect(after.hits - before.hits).toBe(firstRows - 1);
      }
    }
  });

  async function cachedAppPost(body: unknown): Promise<Record<string, unknown>> {
    const response = await cachedApp.request("/v1/conditioning", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }
});
