/**
 * The test-only fault switch BATCH_FAULT_FIRST_DELIVERY: the queue consumer throws on every
 * chunk's first delivery, after writing the chunk's result lines to R2 and before it lands.
 * Queues retries each chunk; the batch completes with every custom_id exactly once (the
 * rewritten chunk keys replace the first delivery's lines; the Durable Object counts a chunk
 * once). Official OpenAI SDK against `npm start`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../../helpers/npm-start.ts";
import {
  API_KEY,
  countIds,
  fileLines,
  fixtureTexts,
  sdkClient,
  toJsonl,
  upload,
  waitForEnd,
} from "./batch-client.ts";

const CHUNK_LINES = 40;
const LINES = 300;

let worker: RunningWorker;

beforeAll(async () => {
  worker = await startWorker({
    model: "tiny-openai",
    origin: false,
    vars: {
      API_KEYS: API_KEY,
      BATCH_CHUNK_LINES: String(CHUNK_LINES),
      BATCH_FAULT_FIRST_DELIVERY: "true",
    },
  });
}, 300_000);
afterAll(() => worker?.stop());

describe("batch consumer fault on each chunk's first delivery", () => {
  it("retries complete the batch with no duplicated or missing custom_id", async () => {
    const client = sdkClient(worker.url);
    const lines = fixtureTexts(LINES).map((text, i) => ({
      custom_id: `f-${i}`,
      method: "POST",
      url: "/v1/embeddings",
      body: { input: text },
    }));
    // Two malformed lines: the error file is rewritten on the retry too.
    const raw = toJsonl(lines).split("\n");
    raw[17] = "{ not json";
    raw[250] = JSON.stringify({ ...lines[250], body: { input: [] } });
    const file = await upload(client, raw.join("\n"));
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/embeddings",
      completion_window: "24h",
    });
    const done = await waitForEnd(client, batch.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: LINES, completed: LINES - 2, failed: 2 });

    const output = await fileLines(client, done.output_file_id);
    const errors = await fileLines(client, done.error_file_id);
    expect(output).toHaveLength(LINES - 2);
    expect(errors).toHaveLength(2);
    const counts = countIds([...output, ...errors]);
    for (let i = 0; i < LINES; i++) {
      if (i === 17) continue; // not JSON: no custom_id to read
      expect(counts.get(`f-${i}`), `f-${i}`).toBe(1);
    }
    expect(counts.get(null)).toBe(1);
    expect(new Set(output.map((line) => line.id)).size).toBe(LINES - 2);

    // The fault really fired: once per chunk, each followed by a retry.
    const chunks = Math.ceil(LINES / CHUNK_LINES);
    const log = worker.output();
    const faults = log.match(new RegExp(`batch ${batch.id} chunk \\d+: test fault`, "g")) ?? [];
    expect(new Set(faults).size).toBe(chunks);
    const retried = log.match(new RegExp(`batch ${batch.id} chunk \\d+: attempt 1 failed`, "g"));
    expect(new Set(retried).size).toBe(chunks);
  });
});
