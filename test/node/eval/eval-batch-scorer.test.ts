import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatchScorer } from "../../../node/eval/eval-batch-scorer.ts";
import type { EvalItem } from "../../../node/eval/eval-inputs.ts";
import { runEval } from "../../../node/eval/eval-runner.ts";
import { openEvalState } from "../../../node/eval/eval-state.ts";
import { type FakeBatchServer, startFakeBatchServer } from "./fake-batch-server.ts";

let server: FakeBatchServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "clip-edge-eval-batch-"));
  // "bad" bytes are refused; otherwise the cosine encodes the first byte and the prompt length.
  server = await startFakeBatchServer((image, prompt) =>
    image.toString() === "bad" ? "cannot decode image" : image[0] / 1000 + prompt.length / 100,
  );
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const items: EvalItem[] = ["a", "b", "bad", "d", "e"].map((name) => ({
  id: `id-${name}`,
  file: name,
  prompt: `prompt of ${name}`,
}));
const readFile = (file: string) => new TextEncoder().encode(file);

describe("batch scorer, through the openai SDK", () => {
  it("uploads a JSONL of /v1/score lines, creates batches, polls, reads output and error files", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "k" });
    const state = openEvalState(join(dir, "state.jsonl"), { scorer: "batch" });
    const polls: string[] = [];
    const scorer = createBatchScorer({
      client: client as never,
      toFile,
      state,
      model: "tiny",
      batchLines: 3,
      pollMs: 1,
      readFile,
      onPoll: (b) => polls.push(b.status),
    });
    const result = await runEval({ items, state, scorer });
    expect(result).toEqual({ resumed: 0, computed: 5, interrupted: false });
    expect(server.batchesCreated).toHaveLength(2);
    expect(server.batchesCreated[0]).toMatchObject({
      endpoint: "/v1/score",
      completion_window: "24h",
    });
    expect(server.uploads.map((u) => u.purpose)).toEqual(["batch", "batch"]);
    const first = server.uploads[0].text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(first).toHaveLength(3);
    expect(first[0]).toEqual({
      custom_id: "id-a",
      method: "POST",
      url: "/v1/score",
      body: {
        images: [{ b64: Buffer.from("a").toString("base64") }],
        prompts: ["prompt of a"],
        model: "tiny",
      },
    });
    expect(polls).toEqual(["in_progress", "completed", "in_progress", "completed"]);
    expect(state.get("id-a", "prompt of a")).toMatchObject({ cosine: 97 / 1000 + 11 / 100 });
    expect(state.get("id-bad", "prompt of bad")).toMatchObject({
      type: "error",
      error: "HTTP 400: cannot decode image",
    });
    expect(state.openBatches()).toHaveLength(2);
    state.close();
  });

  it("a run stopped while a batch is in flight collects that batch on the next run, not a new one", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "k" });
    const path = join(dir, "recover.jsonl");
    const state = openEvalState(path, { scorer: "batch" });
    // The first run submitted a batch and died before it finished.
    const file = await client.files.create({
      file: await toFile(
        new TextEncoder().encode(
          `${items
            .slice(0, 2)
            .map((i) =>
              JSON.stringify({
                custom_id: i.id,
                method: "POST",
                url: "/v1/score",
                body: {
                  images: [{ b64: Buffer.from(i.file).toString("base64") }],
                  prompts: [i.prompt],
                },
              }),
            )
            .join("\n")}\n`,
        ),
        "in.jsonl",
      ),
      purpose: "batch",
    });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/score" as never,
      completion_window: "24h",
    });
    state.batchSubmitted(batch.id, ["id-a", "id-b"]);
    state.close();
    const created = server.batchesCreated.length;
    const again = openEvalState(path, { scorer: "batch" });
    const scorer = createBatchScorer({
      client: client as never,
      toFile,
      state: again,
      pollMs: 1,
      readFile,
    });
    const result = await runEval({ items, state: again, scorer });
    expect(result.computed).toBe(5);
    // One new batch for the three items that were never submitted.
    expect(server.batchesCreated.length - created).toBe(1);
    expect(
      server.uploads
        .at(-1)
        ?.text.trim()
        .split("\n")
        .map((l) => JSON.parse(l).custom_id),
    ).toEqual(["id-bad", "id-d", "id-e"]);
    expect(again.get("id-b", "prompt of b")).toMatchObject({ cosine: 98 / 1000 + 11 / 100 });
    again.close();
  });
});
