/**
 * A `prepare --edge` bundle (one graph per layer + a head, external data, the
 * token table beside the graph) answers like the one-graph int8 bundle: the
 * worker creates the stage sessions one at a time, largest first, and chains them.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { graphStages, stageBytes } from "../../conditioning/bundle/graph-files.ts";
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { type BucketLike, createBundleStore } from "../../worker/models/bundle-store.ts";
import { createEdgeTextSession, type EdgeLoadReport } from "../../worker/models/edge-session.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { seedBundle } from "./helpers/seed.ts";

const ONE_GRAPH = "tiny-int8";
const EDGE = "tiny-int8-edge";

const gets: string[] = [];
const bucket: BucketLike = {
  get(key, options) {
    gets.push(key);
    return env.MODELS.get(key, options);
  },
  list: (options) => env.MODELS.list(options),
};
const app = createWorkerApp({
  env: { MODELS: bucket, DEFAULT_MODEL: ONE_GRAPH },
  runtime: createWorkerOrtRuntime,
  cache: () => undefined,
});

async function post(path: string, body: unknown) {
  const response = await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json() as Promise<Record<string, unknown>>;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

let edge: BundleManifest;

beforeAll(async () => {
  await seedBundle(ONE_GRAPH, "bundle/variants/int8");
  edge = await seedBundle(EDGE, "bundle/variants/int8-edge");
});

describe("staged (prepare --edge) bundle in the worker", () => {
  it("is staged: 3 layer stages + the head, each with external data", () => {
    const stages = graphStages(edge.graphs[0]);
    expect(stages.map((s) => s.layers)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 3],
    ]);
    expect(stages.every((s) => s.externalData?.length === 1)).toBe(true);
  });

  it("/v1/embeddings and /v1/conditioning (sd15, clip_skip 2) equal the one-graph bundle", async () => {
    const input = ["a photo of a cat", "a (red:1.2) lighthouse at dusk, oil painting", "blurry"];
    const [a, b] = [
      await post("/v1/embeddings", { input, model: ONE_GRAPH }),
      await post("/v1/embeddings", { input, model: EDGE }),
    ] as { data: { embedding: number[] }[] }[];
    for (let i = 0; i < input.length; i++) {
      expect(maxAbsDiff(b.data[i].embedding, a.data[i].embedding)).toBeLessThanOrEqual(1e-5);
    }
    for (const clip_skip of [undefined, 2]) {
      const request = { preset: "sd15", prompt: input[1], negative_prompt: "blurry", clip_skip };
      const [x, y] = [
        await post("/v1/conditioning", { ...request, model: ONE_GRAPH }),
        await post("/v1/conditioning", { ...request, model: EDGE }),
      ] as { tensors: Record<string, { data: unknown[] }> }[];
      expect(Object.keys(y.tensors).sort()).toEqual(Object.keys(x.tensors).sort());
      for (const name of Object.keys(x.tensors)) {
        const flat = (t: { data: unknown[] }) => t.data.flat(4) as number[];
        expect(maxAbsDiff(flat(y.tensors[name]), flat(x.tensors[name])), name).toBeLessThanOrEqual(
          1e-5,
        );
      }
    }
  });

  it("loads every file through one buffer the size of the largest stage", async () => {
    const reports: EdgeLoadReport[] = [];
    const session = await createEdgeTextSession(
      createBundleStore({ bucket: env.MODELS }),
      createWorkerOrtRuntime(),
      EDGE,
      edge.graphs[0],
      (r) => reports.push(r),
    );
    const stages = graphStages(edge.graphs[0]);
    expect(reports).toEqual([
      { bufferBytes: Math.max(...stages.map(stageBytes)), files: stages.length * 2 },
    ]);
    expect(session.outputNames).toEqual(expect.arrayContaining(["pooled", "hidden_states_2"]));
  });

  it("read every stage once, largest first", () => {
    const stages = graphStages(edge.graphs[0]);
    const order = gets
      .filter((k) => k.startsWith(`${EDGE}/text.stage`) && k.endsWith(".onnx"))
      .map((k) => stages.findIndex((s) => `${EDGE}/${s.file}` === k));
    expect([...order].sort()).toEqual([0, 1, 2, 3]);
    const sizes = order.map((i) => stageBytes(stages[i]));
    expect(sizes).toEqual([...sizes].sort((p, q) => q - p));
  });
});
