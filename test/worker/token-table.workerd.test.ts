/**
 * A bundle whose int8 token-embedding table lives beside the graph
 * (`--token-embedding external-int8`) answers like the same bundle with the
 * table in the graph, reading rows from R2 by range.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { type BucketLike, createBundleStore } from "../../worker/models/bundle-store.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { seedBundle, testEnv } from "./helpers/seed.ts";

const IN_GRAPH = "tiny-int8";
const EXTERNAL = "tiny-int8-ext";
const TABLE = "token_embedding.safetensors";

interface Get {
  key: string;
  range?: { offset: number; length: number };
}

/** MODELS, recording every get (and its range). */
function recordingBucket(gets: Get[]): BucketLike {
  return {
    get(key, options) {
      gets.push({ key, ...(options?.range ? { range: options.range } : {}) });
      return env.MODELS.get(key, options);
    },
    list: (options) => env.MODELS.list(options),
  };
}

const gets: Get[] = [];
const app = createWorkerApp({
  env: { MODELS: recordingBucket(gets), DEFAULT_MODEL: IN_GRAPH },
  runtime: createWorkerOrtRuntime,
  cache: () => undefined,
});

function call(path: string, body: unknown): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const tableGets = (model: string) => gets.filter((g) => g.key === `${model}/${TABLE}`);

const PROMPTS = [
  "a photo of a cat",
  "an astronaut riding a horse on the moon, detailed, 4k",
  "a (red:1.2) lighthouse at dusk, oil painting",
  "blurry",
  "zzzz qqqq xylophone ukulele",
];

let external: BundleManifest;

beforeAll(async () => {
  await seedBundle(IN_GRAPH, "bundle/variants/int8");
  external = await seedBundle(EXTERNAL, "bundle/variants/int8-external");
  // The same bundle without its table object, and with a table of the wrong size.
  await testEnv.MODELS.put("tiny-ext-missing/manifest.json", JSON.stringify(external));
  await testEnv.MODELS.put(
    "tiny-ext-resized/manifest.json",
    JSON.stringify({
      ...external,
      graphs: external.graphs.map((g) => ({
        ...g,
        tokenEmbeddingTable: { ...g.tokenEmbeddingTable!, bytes: g.tokenEmbeddingTable!.bytes + 1 },
      })),
    }),
  );
  const files = [...external.tokenizer.files, external.graphs[0].file];
  for (const model of ["tiny-ext-missing", "tiny-ext-resized"]) {
    for (const file of [...files, ...(model === "tiny-ext-resized" ? [TABLE] : [])]) {
      const object = await env.MODELS.get(`${EXTERNAL}/${file}`);
      await testEnv.MODELS.put(`${model}/${file}`, await object!.arrayBuffer());
    }
  }
});

describe("external-int8 token table read from R2 by range", () => {
  it("the two int8 bundles differ only in where the table lives", () => {
    const graph = external.graphs.find((g) => g.kind === "text")!;
    expect(graph.tokenEmbedding).toBe("external-int8");
    expect(graph.tokenEmbeddingTable?.file).toBe(TABLE);
    expect(graph.inputs).toContain("token_embeds");
  });

  it("/v1/embeddings: same embeddings as the in-graph table (max abs diff <= 1e-5)", async () => {
    const answers: number[][][] = [];
    for (const model of [IN_GRAPH, EXTERNAL]) {
      const response = await call("/v1/embeddings", { input: PROMPTS, model });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { embedding: number[] }[] };
      answers.push(body.data.map((d) => d.embedding));
    }
    expect(answers[1].length).toBe(PROMPTS.length);
    for (let i = 0; i < PROMPTS.length; i++) {
      expect(maxAbsDiff(answers[1][i], answers[0][i])).toBeLessThanOrEqual(1e-5);
    }
    // The table was only ever read by range, never whole; the in-graph bundle has none.
    const reads = tableGets(EXTERNAL);
    expect(reads.length).toBeGreaterThan(2);
    expect(reads.every((g) => g.range !== undefined)).toBe(true);
    expect(tableGets(IN_GRAPH)).toEqual([]);
    const largest = Math.max(...reads.map((g) => g.range!.length));
    expect(largest).toBeLessThan(external.graphs[0].tokenEmbeddingTable!.bytes / 10);
    console.log(
      `token table: ${reads.length} range reads (2 at load) for ${PROMPTS.length} prompts, ${reads.reduce((sum, g) => sum + g.range!.length, 0)} bytes in all, largest ${largest} of ${external.graphs[0].tokenEmbeddingTable!.bytes}`,
    );
  });

  it("/v1/conditioning: same tensors, one prompt at a time; repeated tokens come from the LRU", async () => {
    for (const prompt of PROMPTS.slice(0, 4)) {
      const tensors: Record<string, { data: number[] }>[] = [];
      const before = tableGets(EXTERNAL).length;
      for (const model of [IN_GRAPH, EXTERNAL]) {
        const response = await call("/v1/conditioning", {
          model,
          preset: "sd15",
          prompt,
          negative_prompt: "blurry",
        });
        expect(response.status).toBe(200);
        tensors.push(
          ((await response.json()) as { tensors: Record<string, { data: number[] }> }).tensors,
        );
      }
      expect(Object.keys(tensors[1]).sort()).toEqual(Object.keys(tensors[0]).sort());
      for (const name of Object.keys(tensors[0])) {
        const flat = (t: { data: number[] }) => (t.data as unknown[]).flat(4) as number[];
        expect(maxAbsDiff(flat(tensors[1][name]), flat(tensors[0][name]))).toBeLessThanOrEqual(
          1e-5,
        );
      }
      // Every prompt here was embedded above: its rows are cached, no new reads.
      expect(tableGets(EXTERNAL).length).toBe(before);
    }
    const fresh = "violin cathedral thunderstorm marmalade";
    const before = tableGets(EXTERNAL).length;
    const started = performance.now();
    expect((await call("/v1/embeddings", { input: fresh, model: EXTERNAL })).status).toBe(200);
    const ms = performance.now() - started;
    const reads = tableGets(EXTERNAL).length - before;
    expect(reads).toBeGreaterThan(0);
    console.log(
      `token table: a prompt with 4 new words made ${reads} range reads, ${ms.toFixed(1)} ms`,
    );
  });

  it("a missing table object is a 503 JSON error naming the file", async () => {
    const response = await call("/v1/embeddings", { input: "a cat", model: "tiny-ext-missing" });
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unavailable");
    expect(body.error.message).toMatch(`tiny-ext-missing/${TABLE}`);
    expect(body.error.message).toMatch(/missing from R2/);
  });

  it("a table whose size differs from the manifest is a 500 integrity error", async () => {
    const response = await call("/v1/embeddings", { input: "a cat", model: "tiny-ext-resized" });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("integrity");
    expect(body.error.message).toMatch(
      new RegExp(`tiny-ext-resized/${TABLE} has \\d+ bytes, the manifest says \\d+`),
    );
  });

  it("an R2 failure on a range read is unavailable, naming the bytes and the file", async () => {
    const store = createBundleStore({
      bucket: {
        get: async () => {
          throw new Error("R2 is down");
        },
        list: (options) => env.MODELS.list(options),
      },
    });
    await expect(
      store.getRange("m", TABLE, { offset: 8, length: 16 }, { bytes: 100 }),
    ).rejects.toMatchObject({
      code: "unavailable",
      message: `R2 bucket MODELS could not read bytes 8..24 of m/${TABLE}`,
    });
  });
});
