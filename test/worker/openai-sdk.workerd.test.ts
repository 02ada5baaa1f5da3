/**
 * The official OpenAI SDK (npm `openai`) against the worker in workerd: the SDK's own base
 * URL handling, request shapes and base64 decoding, with `fetch` routed to the worker under
 * test. Vectors are compared to the fixture goldens (`text_embeds_normalized`).
 */
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { worker } from "./helpers/client.ts";
import { fixtureBytes, seedBundle } from "./helpers/seed.ts";

interface GoldenPrompt {
  text: string;
  input_ids_pad49407: number[];
  text_embeds_normalized: number[];
}

let prompts: GoldenPrompt[];
const requests: { method: string; url: string; body?: Record<string, unknown> }[] = [];

const client = new OpenAI({
  apiKey: "unused",
  baseURL: "http://clip-edge/v1",
  maxRetries: 0,
  fetch: async (url, init) => {
    const request = new Request(url, init);
    const body =
      request.method === "POST"
        ? ((await request.clone().json()) as Record<string, unknown>)
        : undefined;
    requests.push({ method: request.method, url: request.url, ...(body ? { body } : {}) });
    return worker.fetch(request);
  },
});

beforeAll(async () => {
  // The worker's module loads on its first request (tens of seconds on a busy machine): here,
  // under the hook timeout, not in the first test.
  await (await worker.fetch("http://clip-edge/healthz")).arrayBuffer();
  await seedBundle();
  prompts = (
    JSON.parse(
      new TextDecoder().decode(await fixtureBytes("fixtures/models/tiny-openai/golden.json")),
    ) as { prompts: GoldenPrompt[] }
  ).prompts;
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
};

describe("OpenAI SDK", () => {
  it("models.list and models.retrieve", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain("tiny-openai");
    const model = await client.models.retrieve("tiny-openai");
    expect(model).toMatchObject({ id: "tiny-openai", object: "model" });
    expect(requests.at(-1)).toEqual({
      method: "GET",
      url: "http://clip-edge/v1/models/tiny-openai",
    });
    await expect(client.models.retrieve("no-such-model")).rejects.toMatchObject({
      status: 404,
      error: { code: "not_found" },
    });
  });

  it("embeddings.create with strings (the SDK's default base64 path) matches the goldens", async () => {
    const texts = prompts.slice(0, 4).map((p) => p.text);
    const response = await client.embeddings.create({ model: "tiny-openai", input: texts });
    // The SDK asks for base64 and decodes the float32 bytes itself.
    expect(requests.at(-1)?.body?.encoding_format).toBe("base64");
    expect(response.data).toHaveLength(4);
    response.data.forEach((item, i) => {
      expect(item.index).toBe(i);
      expect(maxAbsDiff(item.embedding, prompts[i].text_embeds_normalized)).toBeLessThan(1e-4);
    });
    const single = await client.embeddings.create({ model: "tiny-openai", input: texts[0] });
    // Another batch shape (1 row, shorter padding): equal to float rounding.
    expect(maxAbsDiff(single.data[0].embedding, response.data[0].embedding)).toBeLessThan(1e-6);
  });

  it("embeddings.create with encoding_format float and dimensions", async () => {
    const response = await client.embeddings.create({
      model: "tiny-openai",
      input: prompts[1].text,
      encoding_format: "float",
      dimensions: 16,
    });
    const vector = response.data[0].embedding;
    expect(vector).toHaveLength(16);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
  });

  it("embeddings.create with token arrays (number[][] and number[]) matches the texts' goldens", async () => {
    const chosen = prompts.slice(0, 3);
    const ids = chosen.map((p) =>
      p.input_ids_pad49407.slice(0, p.input_ids_pad49407.indexOf(49407) + 1),
    );
    const response = await client.embeddings.create({ model: "tiny-openai", input: ids });
    response.data.forEach((item, i) => {
      expect(maxAbsDiff(item.embedding, chosen[i].text_embeds_normalized)).toBeLessThan(1e-4);
    });
    const one = await client.embeddings.create({ model: "tiny-openai", input: ids[2] });
    expect(maxAbsDiff(one.data[0].embedding, response.data[2].embedding)).toBeLessThan(1e-6);
    await expect(
      client.embeddings.create({ model: "tiny-openai", input: [[320, 99_999]] }),
    ).rejects.toMatchObject({ status: 422, error: { code: "invalid_input" } });
  });
});
