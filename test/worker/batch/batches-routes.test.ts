/**
 * The batch routes' own checks, in Node with in-memory bindings: uploads and their limit,
 * how a file is cut into queue messages (byte ranges, line numbers, blank lines), and the
 * limits on lines, concurrent batches and empty files, each named in the refusal.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../../worker/app.ts";
import type { Batch } from "../../../worker/batch/batch-schema.ts";
import type {
  BatchBucket,
  BatchDeps,
  BatchState,
  ChunkMessage,
} from "../../../worker/batch/batch-store.ts";
import { DEFAULT_LIMITS, type WorkerLimits } from "../../../worker/config/limits.ts";

function memoryDeps() {
  const objects = new Map<string, { bytes: Uint8Array; customMetadata?: Record<string, string> }>();
  const toBytes = async (value: unknown) =>
    typeof value === "string"
      ? new TextEncoder().encode(value)
      : value instanceof Uint8Array
        ? value
        : new Uint8Array(await new Response(value as BodyInit).arrayBuffer());
  const bucket: BatchBucket = {
    async head(key) {
      const o = objects.get(key);
      return o ? { size: o.bytes.length, customMetadata: o.customMetadata } : null;
    },
    async get(key, options) {
      const o = objects.get(key);
      if (!o) return null;
      const r = options?.range;
      const bytes = r ? o.bytes.slice(r.offset, r.offset + r.length) : o.bytes;
      return {
        size: o.bytes.length,
        customMetadata: o.customMetadata,
        body: new Blob([bytes]).stream(),
        text: async () => new TextDecoder().decode(bytes),
      };
    },
    async put(key, value, options) {
      objects.set(key, { bytes: await toBytes(value), customMetadata: options?.customMetadata });
    },
    async delete(key) {
      objects.delete(key);
    },
    async list({ prefix, limit }) {
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).slice(0, limit);
      return { objects: keys.map((key) => ({ key })) };
    },
  };
  const sent: ChunkMessage[] = [];
  const batches = new Map<string, Batch>();
  const state = (id: string): BatchState => ({
    init: async (batch) => {
      batches.set(id, batch);
      return batch;
    },
    get: async () => batches.get(id) ?? null,
    cancel: async () => batches.get(id) ?? null,
    claim: async () => "run",
    land: async () => {},
    skip: async () => {},
  });
  const deps: BatchDeps = {
    bucket,
    queue: {
      sendBatch: async (messages) => {
        for (const m of messages) sent.push(m.body);
      },
    },
    state,
  };
  return { deps, sent, objects };
}

function appWith(limits: Partial<WorkerLimits>, deps?: BatchDeps) {
  return createApp({
    apiKeys: () => [],
    limits: () => ({ ...DEFAULT_LIMITS, ...limits }),
    batch: () => deps,
  } as never);
}

async function uploadTo(app: ReturnType<typeof appWith>, text: string, purpose = "batch") {
  const form = new FormData();
  form.set("purpose", purpose);
  form.set("file", new Blob([text]), "in.jsonl");
  return app.request("/v1/files", { method: "POST", body: form });
}

const createBatch = (app: ReturnType<typeof appWith>, input_file_id: string) =>
  app.request("/v1/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input_file_id, endpoint: "/v1/embeddings", completion_window: "24h" }),
  });

const line = (i: number) =>
  JSON.stringify({
    custom_id: `r${i}`,
    method: "POST",
    url: "/v1/embeddings",
    body: { input: `t${i}` },
  });

describe("batch routes", () => {
  it("cuts the file into BATCH_CHUNK_LINES-line byte ranges, skipping blank lines", async () => {
    const { deps, sent } = memoryDeps();
    const app = appWith({ batchChunkLines: 3 }, deps);
    // Lines 1-3, a blank line 4, lines 5-8, no final newline.
    const text = [line(0), line(1), line(2), "  ", line(3), line(4), line(5), line(6)].join("\n");
    const upload = await uploadTo(app, text);
    expect(upload.status).toBe(200);
    const file = (await upload.json()) as { id: string; bytes: number; purpose: string };
    expect(file).toMatchObject({ purpose: "batch", bytes: Buffer.byteLength(text) });

    const response = await createBatch(app, file.id);
    const batch = (await response.json()) as Batch;
    expect(response.status, JSON.stringify(batch)).toBe(200);
    expect(batch).toMatchObject({ status: "in_progress", request_counts: { total: 7 } });
    expect(sent.map((m) => m.firstLine)).toEqual([1, 4, 8]);
    const bytes = Buffer.from(text);
    const chunks = sent.map((m) => bytes.subarray(m.offset, m.offset + m.length).toString());
    expect(chunks.join("")).toBe(text);
    expect(chunks.map((c) => c.split("\n").filter((l) => l.trim()).length)).toEqual([3, 3, 1]);
    expect(new Set(sent.map((m) => m.batchId))).toEqual(new Set([batch.id]));
  });

  it("refuses an upload over MAX_BATCH_FILE_BYTES and another purpose", async () => {
    const { deps } = memoryDeps();
    const app = appWith({ maxBatchFileBytes: 100 }, deps);
    const big = await uploadTo(app, `${line(0)}\n${line(1)}\n`);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { message: string } }).error.message).toMatch(
      /MAX_BATCH_FILE_BYTES/,
    );
    const other = await uploadTo(appWith({}, deps), line(0), "fine-tune");
    expect(other.status).toBe(422);
  });

  it("names MAX_BATCH_LINES, MAX_CONCURRENT_BATCHES and an empty file", async () => {
    const { deps } = memoryDeps();
    const app = appWith({ maxBatchLines: 2, maxConcurrentBatches: 1 }, deps);
    const idOf = async (text: string) =>
      ((await (await uploadTo(app, text)).json()) as { id: string }).id;

    const tooMany = await createBatch(app, await idOf([0, 1, 2].map(line).join("\n")));
    expect(tooMany.status).toBe(413);
    expect(await tooMany.text()).toMatch(/more than 2 request lines \(MAX_BATCH_LINES\)/);

    const empty = await createBatch(app, await idOf("\n  \n"));
    expect(empty.status).toBe(422);
    expect(await empty.text()).toMatch(/has no request line/);

    expect((await createBatch(app, await idOf(line(0)))).status).toBe(200);
    const second = await createBatch(app, await idOf(line(1)));
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBeTruthy();
    expect(await second.text()).toMatch(/MAX_CONCURRENT_BATCHES/);

    const missing = await createBatch(app, "file-0123456789abcdef0123456789abcdef");
    expect(missing.status).toBe(404);
  });

  it("answers 503 without the batch bindings", async () => {
    const app = appWith({});
    const response = await app.request("/v1/batches/batch_0123456789abcdef0123456789abcdef");
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/BATCH_QUEUE/);
  });
});
