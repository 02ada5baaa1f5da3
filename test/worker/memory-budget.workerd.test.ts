/**
 * MEMORY_BUDGET_MB through the worker in workerd: with a budget that holds one tiny
 * model (fp32, with its measured memory profile) but not two, a second model answers 503 over_capacity while the first
 * is in use, evicts it once it has been idle, and the first loads again (same answers)
 * after that. The budget and its use are in /readyz.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import { graphMemoryCost, runBytes } from "../../conditioning/memory/memory-model.ts";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { GROWTH_STEP } from "../../worker/inference/memory-budget.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { seedBundle } from "./helpers/seed.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("MEMORY_BUDGET_MB: eviction and over_capacity between models", () => {
  let manifest: BundleManifest;
  let budgetMb: number;

  beforeAll(async () => {
    manifest = await seedBundle("mem-a", "bundle");
    await seedBundle("mem-b", "bundle");
    const text = manifest.graphs.find((g) => g.kind === "text")!;
    const cost = graphMemoryCost(text, manifest.architecture.text!);
    expect(cost.source).toBe("measured");
    const one = cost.runtimeBytes + cost.loadBytes + runBytes(cost, 1, 77);
    budgetMb = Math.ceil((one * GROWTH_STEP) / 1e6);
    // The budget holds one model and a row, not two models.
    expect(((one + cost.loadBytes) * GROWTH_STEP) / 1e6).toBeGreaterThan(budgetMb);
  });

  it("refuses a second model while the first is in use, evicts it once idle", async () => {
    const app = createWorkerApp({
      env: {
        MODELS: env.MODELS,
        DEFAULT_MODEL: "mem-b",
        MEMORY_BUDGET_MB: String(budgetMb),
      } as never,
      runtime: createWorkerOrtRuntime,
      cache: () => undefined,
    });
    const embed = async (model: string) => {
      const response = await app.request("/v1/embeddings", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, input: "a lighthouse on a cliff" }),
      });
      const body = (await response.json()) as {
        data?: { embedding: number[] }[];
        error?: { code: string; message: string };
      };
      return { status: response.status, body };
    };

    const first = await embed("mem-a");
    expect(first.status, JSON.stringify(first.body)).toBe(200);

    const busy = await embed("mem-b");
    expect(busy.status).toBe(503);
    expect(busy.body.error?.code).toBe("over_capacity");
    expect(busy.body.error?.message).toMatch(
      new RegExp(
        `model mem-b needs .* beside the loaded models \\(mem-a: .* of MEMORY_BUDGET_MB=${budgetMb}\\)`,
      ),
    );

    await sleep(1100);
    const second = await embed("mem-b");
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    const ready = (await (await app.request("/readyz")).json()) as {
      memory: {
        budget_bytes: number;
        evictions: number;
        graphs: { graph: string }[];
        estimated_bytes: number;
      };
      wasm_heap: { bytes: number };
    };
    expect(ready.memory.budget_bytes).toBe(budgetMb * 1e6);
    expect(ready.memory.evictions).toBe(1);
    expect(ready.memory.graphs.map((g) => g.graph)).toEqual(["mem-b"]);
    expect(ready.memory.estimated_bytes).toBeLessThanOrEqual(ready.memory.budget_bytes);

    await sleep(1100);
    const again = await embed("mem-a");
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const a = first.body.data![0].embedding;
    const b = again.body.data![0].embedding;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThanOrEqual(1e-6);
  });
});
