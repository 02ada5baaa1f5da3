/**
 * The batch API end to end with the official OpenAI SDK against `npm start` (wrangler dev:
 * local Queues, R2 and Durable Objects), the tiny fixture model, API keys on:
 * files.create -> batches.create -> batches.retrieve until completed -> files.content.
 * 2,000 /v1/embeddings lines equal the online route's answers; 5% malformed lines end up,
 * exactly, in the error file; a cancel mid-way stops the batch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../../helpers/npm-start.ts";
import {
  API_KEY,
  countIds,
  fileLines,
  fixtureTexts,
  type InputLine,
  lineOf,
  sdkClient,
  toJsonl,
  upload,
  waitForEnd,
} from "./batch-client.ts";

const CHUNK_LINES = 50;

let worker: RunningWorker;
let client: ReturnType<typeof sdkClient>;

beforeAll(async () => {
  worker = await startWorker({
    model: "tiny-openai",
    origin: false,
    // No response cache: the online answers compared below are computed, not the batch's
    // answers read back from the Cache API.
    vars: { API_KEYS: API_KEY, BATCH_CHUNK_LINES: String(CHUNK_LINES), CACHE_TTL_SECONDS: "0" },
  });
  client = sdkClient(worker.url);
}, 300_000);
afterAll(() => worker?.stop());

const embeddingLine = (custom_id: string, input: string | string[]): InputLine => ({
  custom_id,
  method: "POST",
  url: "/v1/embeddings",
  body: { input, encoding_format: "float" },
});

async function online(body: Record<string, unknown>) {
  const response = await fetch(`${worker.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });
  expect(response.headers.get("x-cache")).not.toBe("HIT");
  return { status: response.status, body: (await response.json()) as EmbeddingsBody };
}

interface EmbeddingsBody {
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

describe("batch API with the OpenAI SDK against npm start", () => {
  it("runs 2,000 /v1/embeddings lines; each output equals the online route's answer", async () => {
    const texts = fixtureTexts(2000);
    const lines = texts.map((text, i) => embeddingLine(`emb-${i}`, text));
    const file = await upload(client, toJsonl(lines));
    expect(file).toMatchObject({ object: "file", purpose: "batch", filename: "input.jsonl" });
    expect(file.bytes).toBe(Buffer.byteLength(toJsonl(lines)));
    expect(await client.files.retrieve(file.id)).toMatchObject({ id: file.id, bytes: file.bytes });

    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/embeddings",
      completion_window: "24h",
      metadata: { suite: "batch-api" },
    });
    expect(created).toMatchObject({
      object: "batch",
      endpoint: "/v1/embeddings",
      input_file_id: file.id,
      completion_window: "24h",
      status: "in_progress",
      request_counts: { total: 2000, completed: 0, failed: 0 },
      metadata: { suite: "batch-api" },
    });
    const done = await waitForEnd(client, created.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 2000, completed: 2000, failed: 0 });
    expect(done.error_file_id).toBeNull();
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(await client.files.retrieve(done.output_file_id!)).toMatchObject({
      purpose: "batch_output",
    });

    const output = await fileLines(client, done.output_file_id);
    expect(output).toHaveLength(2000);
    const counts = countIds(output);
    expect(counts.size).toBe(2000);
    for (const line of lines) expect(counts.get(line.custom_id), line.custom_id).toBe(1);

    // A sample compared in full with the online route (embeddings to float rounding: the
    // micro-batches that ran them differ).
    const byId = new Map(output.map((line) => [line.custom_id, line]));
    for (let i = 0; i < 2000; i += 97) {
      const line = byId.get(`emb-${i}`)!;
      expect(line.error).toBeNull();
      expect(line.response?.status_code).toBe(200);
      expect(line.response?.request_id).toBe(line.id);
      const batch = line.response!.body as EmbeddingsBody;
      const direct = await online(lines[i].body);
      expect(direct.status).toBe(200);
      const strip = (b: EmbeddingsBody) => ({
        ...b,
        data: b.data.map((d) => ({ ...d, embedding: d.embedding.length })),
      });
      expect(strip(batch)).toEqual(strip(direct.body));
      const a = batch.data[0].embedding;
      const b = direct.body.data[0].embedding;
      expect(Math.max(...a.map((v, k) => Math.abs(v - b[k])))).toBeLessThan(1e-5);
    }
  });

  it("a batch with 5% malformed lines completes, with exactly those lines in the error file", async () => {
    const texts = fixtureTexts(200);
    const malformed = new Map<number, string>();
    const raw = texts.map((text, i) => {
      const line = i + 1;
      if (i % 20 !== 7) return JSON.stringify(embeddingLine(`ok-${i}`, text));
      const kind = ["not-json", "bad-body", "wrong-url", "no-custom-id", "too-many"][
        malformed.size % 5
      ];
      malformed.set(line, kind);
      if (kind === "not-json") return `{"custom_id": "bad-${i}", "method": "POST",`;
      if (kind === "bad-body") return JSON.stringify(embeddingLine(`bad-${i}`, 42 as never));
      if (kind === "wrong-url") {
        return JSON.stringify({ ...embeddingLine(`bad-${i}`, text), url: "/v1/chat/completions" });
      }
      if (kind === "no-custom-id") {
        const { custom_id: _, ...rest } = embeddingLine(`bad-${i}`, text);
        return JSON.stringify(rest);
      }
      // Over MAX_PROMPTS (64): the online route's own 413.
      return JSON.stringify(embeddingLine(`bad-${i}`, new Array(65).fill(text)));
    });
    expect(malformed.size).toBe(10);
    const file = await upload(client, `${raw.join("\n")}\n\n`);
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/embeddings",
      completion_window: "24h",
    });
    const done = await waitForEnd(client, batch.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 200, completed: 190, failed: 10 });

    const errors = await fileLines(client, done.error_file_id);
    expect(errors.map(lineOf).sort((a, b) => a - b)).toEqual([...malformed.keys()]);
    const codes = Object.fromEntries(errors.map((e) => [malformed.get(lineOf(e)), e.error?.code]));
    expect(codes).toEqual({
      "not-json": "malformed",
      "bad-body": "invalid_request",
      "wrong-url": "invalid_request",
      "no-custom-id": "invalid_input",
      "too-many": "too_large",
    });
    for (const e of errors) {
      expect(e.error?.message).toMatch(/\S/);
      if (e.response) expect(e.response.status_code).toBeGreaterThanOrEqual(400);
    }
    const output = await fileLines(client, done.output_file_id);
    expect(output).toHaveLength(190);
    expect(output.every((line) => line.response?.status_code === 200)).toBe(true);
    expect(output.some((line) => malformed.has(lineOf(line)))).toBe(false);
    expect(new Set(output.map((line) => line.custom_id)).size).toBe(190);
  });

  it("cancel mid-way: no chunk runs after it, the partial results are kept", async () => {
    // 40 chunks: long enough to cancel while it runs.
    const lines = fixtureTexts(2000).map((text, i) => ({
      ...embeddingLine(`c-${i}`, text),
      body: { input: text, encoding_format: "base64" },
    }));
    const file = await upload(client, toJsonl(lines));
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/embeddings",
      completion_window: "24h",
    });
    let seen = await client.batches.retrieve(batch.id);
    while (seen.request_counts!.completed === 0 && seen.status === "in_progress") {
      await new Promise((r) => setTimeout(r, 100));
      seen = await client.batches.retrieve(batch.id);
    }
    const cancelling = await client.batches.cancel(batch.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    expect(cancelling.cancelling_at).toBeTruthy();
    const done = await waitForEnd(client, batch.id);
    expect(done.status).toBe("cancelled");
    const { completed, failed, total } = done.request_counts!;
    expect(total).toBe(2000);
    expect(failed).toBe(0);
    expect(completed).toBeGreaterThan(0);
    expect(completed).toBeLessThan(total);
    expect(completed % CHUNK_LINES).toBe(0);
    const output = await fileLines(client, done.output_file_id);
    expect(output).toHaveLength(completed);
    expect(countIds(output).size).toBe(completed);
    // Nothing runs after the end: the counts stay.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await client.batches.retrieve(batch.id)).request_counts).toEqual(done.request_counts);
  });

  it("the routes are behind the API key, and unknown ids are 404 not_found", async () => {
    const anonymous = await fetch(
      `${worker.url}/v1/batches/batch_0123456789abcdef0123456789abcdef`,
    );
    expect(anonymous.status).toBe(401);
    await expect(
      client.batches.retrieve("batch_0123456789abcdef0123456789abcdef"),
    ).rejects.toMatchObject({ status: 404, error: { code: "not_found" } });
    await expect(client.files.content("file-nope")).rejects.toMatchObject({ status: 404 });
    await expect(
      client.batches.create({
        input_file_id: "file-0123456789abcdef0123456789abcdef",
        endpoint: "/v1/embeddings",
        completion_window: "24h",
      }),
    ).rejects.toMatchObject({ status: 404, error: { code: "not_found" } });
  });
});
