/**
 * Issue #12: one small request must not buy an enormous answer, and weighting that would
 * give Inf/NaN is refused. Through the real app, on the tiny model (width 64).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { post, sessionStats, worker } from "./helpers/client.ts";
import { seedBundle } from "./helpers/seed.ts";

beforeAll(async () => {
  await seedBundle();
  // Load the model, so that the timings below are the requests' own.
  expect((await post("/v1/conditioning", { prompt: "warm up" })).status).toBe(200);
});

/** The isolate's WASM heap, as /readyz reports it. */
async function wasmHeapBytes(): Promise<number> {
  const body = (await (await worker.fetch("http://clip-edge/readyz")).json()) as {
    wasm_heap?: { bytes: number };
  };
  return body.wasm_heap?.bytes ?? -1;
}

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return body.error;
}

describe("bounds on the work of a request (413 too_large, before any encoding)", () => {
  it("the amplification request (64 prompts x 31 BREAK chunks x 16 images) is refused at once", async () => {
    const prompt = Array.from({ length: 31 }, (_, i) => `a cat number ${i}`).join(" BREAK ");
    const request = {
      prompts: Array.from({ length: 64 }, () => prompt),
      num_images_per_prompt: 16,
      long_prompt: "chunk",
    };
    expect(JSON.stringify(request).length).toBeLessThan(64 * 1024);
    const before = await sessionStats();
    const heapBefore = await wasmHeapBytes();
    const started = performance.now();
    const response = await post("/v1/conditioning", request);
    const elapsed = performance.now() - started;
    expect(response.status).toBe(413);
    const error = await errorOf(response);
    expect(error.code).toBe("too_large");
    // 64 x 31 prompt chunks + the empty prompt (the negatives "" are one chunk each)
    expect(error.message).toMatch(
      /2,049 sequences of 77 tokens.*157,773, more than the limit of 19,712 \(MAX_ENCODE_TOKENS\)/,
    );
    const after = await sessionStats();
    expect(after.runs).toBe(before.runs);
    expect(heapBefore).toBeGreaterThan(0);
    expect(await wasmHeapBytes()).toBe(heapBefore);
    console.log(`amplification request refused in ${elapsed.toFixed(1)} ms (workerd clock)`);

    // A normal request still works afterwards.
    const normal = await post("/v1/conditioning", { prompt: "a cat", format: "safetensors" });
    expect(normal.status).toBe(200);
    expect(normal.headers.get("x-tensor-shapes")).toMatch(/prompt_embeds=1x77x64/);
  });

  it("the output-bytes bound depends on the format: JSON is refused where safetensors passes", async () => {
    // 32 prompts x 2 images, with negatives: 128 rows of 77 x 64 = 630,784 values.
    const request = {
      prompts: Array.from({ length: 32 }, (_, i) => `prompt ${i}`),
      num_images_per_prompt: 2,
    };
    const json = await post("/v1/conditioning", { ...request, format: "json" });
    expect(json.status).toBe(413);
    expect((await errorOf(json)).message).toMatch(
      /630,784 values at ~21 bytes each.*bytes 13,246,464, more than the limit of 8,388,608 \(MAX_OUTPUT_BYTES\)/,
    );
    const file = await post("/v1/conditioning", { ...request, format: "safetensors" });
    expect(file.status).toBe(200);
    expect(file.headers.get("x-tensor-shapes")).toMatch(/prompt_embeds=64x77x64/);
    await file.arrayBuffer();
  });

  it("more chunks than MAX_CHUNKS is too_large naming the limit", async () => {
    const prompt = Array.from({ length: 33 }, () => "cat").join(" BREAK ");
    const response = await post("/v1/conditioning", { prompt, long_prompt: "chunk" });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).message).toMatch(/33 chunks.*limit of 32 \(MAX_CHUNKS\)/);
  });
});

describe("non-finite weighting is 422 invalid_input", () => {
  it.each([
    {
      prompt: "(cat:1e308)",
      weighting: "comfy",
      message: /fragment "cat" has weight 1\.000e\+308/,
    },
    { prompt: '("cat","dog").blend(0,0)', weighting: "compel", message: /sum to 0/ },
  ])("$prompt ($weighting)", async ({ prompt, weighting, message }) => {
    const before = await sessionStats();
    const response = await post("/v1/conditioning", { prompt, weighting });
    expect(response.status).toBe(422);
    const error = await errorOf(response);
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(message);
    expect((await sessionStats()).runs).toBe(before.runs);
  });
});
