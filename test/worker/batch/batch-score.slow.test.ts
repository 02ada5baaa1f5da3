/**
 * /v1/score lines in a batch, images named by the `file_id` of an upload (purpose vision),
 * embedded by the origin through the same client as online requests: each line's scores
 * equal the online /v1/score with the same image sent as base64. Official OpenAI SDK against
 * `npm start -- --origin`.
 */
import { readFileSync } from "node:fs";
import { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePath } from "../../helpers/fixtures.ts";
import { type RunningWorker, startWorker } from "../../helpers/npm-start.ts";
import {
  API_KEY,
  fileLines,
  lineOf,
  sdkClient,
  toJsonl,
  upload,
  waitForEnd,
} from "./batch-client.ts";

const IMAGES = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg"];
const PROMPTS = ["an astronaut", "a cat", "a cup of coffee", "a rocket", "a man with a camera"];

let worker: RunningWorker;

beforeAll(async () => {
  worker = await startWorker({ model: "tiny-openai", origin: true, vars: { API_KEYS: API_KEY } });
}, 300_000);
afterAll(() => worker?.stop());

interface ScoreBody {
  scores: number[][];
  images: { best_prompt: number; cosines: number[] }[];
}

describe("batch /v1/score with uploaded images", () => {
  it("scores each uploaded image as the online route scores its base64 bytes", async () => {
    const client = sdkClient(worker.url);
    const bytes = IMAGES.map((name) => readFileSync(fixturePath("images", name)));
    const files = await Promise.all(
      bytes.map(async (b, i) =>
        client.files.create({ file: await toFile(b, IMAGES[i]), purpose: "vision" }),
      ),
    );
    for (const [i, file] of files.entries()) {
      expect(file).toMatchObject({
        purpose: "vision",
        bytes: bytes[i].length,
        filename: IMAGES[i],
      });
    }
    const lines = files.map((file, i) => ({
      custom_id: `score-${IMAGES[i]}`,
      method: "POST",
      url: "/v1/score",
      body: { images: [{ file_id: file.id }], prompts: PROMPTS },
    }));
    const missing = {
      custom_id: "score-missing",
      method: "POST",
      url: "/v1/score",
      body: { images: [{ file_id: "file-0123456789abcdef0123456789abcdef" }], prompts: PROMPTS },
    };
    const input = await upload(client, toJsonl([...lines, missing]));
    const batch = await client.batches.create({
      input_file_id: input.id,
      endpoint: "/v1/score" as never,
      completion_window: "24h",
    });
    const done = await waitForEnd(client, batch.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 6, completed: 5, failed: 1 });

    const errors = await fileLines(client, done.error_file_id);
    expect(errors.map(lineOf)).toEqual([6]);
    expect(errors[0]).toMatchObject({
      custom_id: "score-missing",
      response: { status_code: 404 },
      error: { code: "not_found" },
    });
    const output = await fileLines(client, done.output_file_id);
    expect(output.map((l) => l.custom_id)).toEqual(lines.map((l) => l.custom_id));
    for (const [i, line] of output.entries()) {
      const online = await fetch(`${worker.url}/v1/score`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ images: [{ b64: bytes[i].toString("base64") }], prompts: PROMPTS }),
      });
      const expected = (await online.json()) as ScoreBody;
      expect(online.status).toBe(200);
      const got = line.response?.body as ScoreBody;
      expect(got.images[0].best_prompt).toBe(expected.images[0].best_prompt);
      // Cosines (unclipped) and scores, to the origin's float rounding across batch shapes.
      const cosines = got.images[0].cosines;
      expect(new Set(cosines.map((c) => c.toFixed(4))).size).toBe(PROMPTS.length);
      cosines.forEach((cos, k) => {
        const label = `${IMAGES[i]} x ${PROMPTS[k]}`;
        expect(Math.abs(cos - expected.images[0].cosines[k]), label).toBeLessThan(1e-5);
        expect(Math.abs(got.scores[0][k] - expected.scores[0][k]), label).toBeLessThan(1e-3);
      });
    }
  });
});
