import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { parseSafetensors, tensorToFloat32 } from "../../conditioning/formats/safetensors.ts";
import { fixtureBytes, seedBundle } from "./helpers/seed.ts";

const worker = (exports as unknown as { default: Fetcher }).default;

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return worker.fetch(`http://clip-edge${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

interface GoldenPrompt {
  text: string;
  eot_index: number;
}

let golden: { prompts: GoldenPrompt[] };
let goldenTensors: ReturnType<typeof parseSafetensors>;

beforeAll(async () => {
  await seedBundle();
  golden = JSON.parse(
    new TextDecoder().decode(await fixtureBytes("fixtures/models/tiny-openai/golden.json")),
  );
  goldenTensors = parseSafetensors(
    await fixtureBytes("fixtures/models/tiny-openai/golden.safetensors"),
  );
});

function goldenRow(name: string, index: number): { shape: number[]; data: Float32Array } {
  const entry = goldenTensors.tensors.get(name)!;
  const all = tensorToFloat32(entry, name);
  const rowSize = entry.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    shape: entry.shape.slice(1),
    data: all.subarray(index * rowSize, (index + 1) * rowSize),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe("health and models", () => {
  it("GET /healthz is alive and /readyz loads the default model", async () => {
    expect(await (await worker.fetch("http://clip-edge/healthz")).json()).toEqual({ status: "ok" });
    const ready = await worker.fetch("http://clip-edge/readyz");
    const body = (await ready.json()) as {
      status: string;
      auth: string;
      model: string;
      wasm_heap: { bytes: number; growth: string; declined_grows: number };
    };
    expect(ready.status).toBe(200);
    expect(body).toMatchObject({ status: "ready", auth: "open", model: "tiny-openai" });
    // onnxruntime-web starts with a 16 MiB heap; the worker grows it tightly.
    expect(body.wasm_heap.bytes).toBeGreaterThanOrEqual(16 * 2 ** 20);
    expect(body.wasm_heap.growth).toBe("tight");
  });

  it("GET /v1/models lists the seeded bundle", async () => {
    const body = (await (await worker.fetch("http://clip-edge/v1/models")).json()) as {
      object: string;
      data: { id: string; serves: string[]; dims: Record<string, number> }[];
    };
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["tiny-openai"]);
    expect(body.data[0].serves).toContain("/v1/embeddings");
  });
});

describe("POST /v1/embeddings", () => {
  it("returns the normalised golden text_embeds", async () => {
    const texts = golden.prompts.slice(0, 4).map((p) => p.text);
    const response = await post("/v1/embeddings", { input: texts, model: "tiny-openai" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      object: string;
      data: { object: string; index: number; embedding: number[] }[];
      usage: { prompt_tokens: number };
    };
    expect(body.object).toBe("list");
    expect(body.data).toHaveLength(4);
    body.data.forEach((item, i) => {
      expect(item.index).toBe(i);
      expect(maxAbsDiff(item.embedding, goldenRow("text_embeds_normalized", i).data)).toBeLessThan(
        1e-4,
      );
    });
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("encodes base64 and honours dimensions", async () => {
    const text = golden.prompts[0].text;
    const response = await post("/v1/embeddings", {
      input: text,
      encoding_format: "base64",
      dimensions: 8,
    });
    const body = (await response.json()) as { data: { embedding: string }[] };
    const bytes = Uint8Array.from(atob(body.data[0].embedding), (ch) => ch.charCodeAt(0));
    const vector = new Float32Array(bytes.buffer);
    expect(vector.length).toBe(8);
    const full = goldenRow("text_embeds_normalized", 0).data.subarray(0, 8);
    const norm = Math.hypot(...full);
    expect(
      maxAbsDiff(
        vector,
        Array.from(full, (v) => v / norm),
      ),
    ).toBeLessThan(1e-4);
  });
});

describe("POST /v1/conditioning", () => {
  it("preset sd15 returns prompt_embeds equal to last_hidden_state_pad49407 (JSON)", async () => {
    const response = await post("/v1/conditioning", {
      preset: "sd15",
      prompt: golden.prompts[1].text,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      tensors: Record<string, { shape: number[]; data: number[] }>;
      models: { id: string; hash: string }[];
    };
    const expected = goldenRow("last_hidden_state_pad49407", 1);
    expect(body.tensors.prompt_embeds.shape).toEqual([1, ...expected.shape]);
    expect(maxAbsDiff(body.tensors.prompt_embeds.data, expected.data)).toBeLessThanOrEqual(1e-4);
    expect(body.models[0].id).toBe("tiny-openai");
  });

  it("preset sd15 returns prompt_embeds equal to last_hidden_state_pad49407 (safetensors)", async () => {
    const response = await post("/v1/conditioning", {
      preset: "sd15",
      prompt: golden.prompts[2].text,
      format: "safetensors",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    const file = parseSafetensors(new Uint8Array(await response.arrayBuffer()));
    const embeds = tensorToFloat32(file.tensors.get("prompt_embeds")!, "prompt_embeds");
    const expected = goldenRow("last_hidden_state_pad49407", 2);
    expect(file.tensors.get("prompt_embeds")!.shape).toEqual([1, ...expected.shape]);
    expect(maxAbsDiff(embeds, expected.data)).toBeLessThanOrEqual(1e-4);
    expect(file.tensors.get("negative_prompt_embeds")!.shape).toEqual([1, ...expected.shape]);
  });
});

describe("POST /v1/conditioning, other presets and formats", () => {
  it("sdxl with two encoders: penultimate hidden states concatenated, pooled = text_embeds", async () => {
    const index = 3;
    const response = await post("/v1/conditioning", {
      preset: "sdxl",
      model: ["tiny-openai", "tiny-openai"],
      prompt: golden.prompts[index].text,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      tensors: Record<string, { shape: number[]; data: number[] }>;
    };
    const l = goldenRow("penultimate_pre_ln_pad49407", index);
    const g = goldenRow("penultimate_pre_ln_pad0", index);
    const w = l.shape[1];
    expect(body.tensors.prompt_embeds.shape).toEqual([1, 77, 2 * w]);
    const embeds = body.tensors.prompt_embeds.data;
    const first: number[] = [];
    const second: number[] = [];
    for (let row = 0; row < 77; row++) {
      first.push(...embeds.slice(row * 2 * w, row * 2 * w + w));
      second.push(...embeds.slice(row * 2 * w + w, (row + 1) * 2 * w));
    }
    expect(maxAbsDiff(first, l.data)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(second, g.data)).toBeLessThanOrEqual(1e-4);
    expect(
      maxAbsDiff(body.tensors.pooled_prompt_embeds.data, goldenRow("text_embeds", index).data),
    ).toBeLessThanOrEqual(1e-4);
    // No negative prompt: diffusers' force_zeros_for_empty_prompt.
    expect(body.tensors.negative_pooled_prompt_embeds.data.every((v) => v === 0)).toBe(true);
  });

  it("npy carries prompt_embeds with shape headers", async () => {
    const response = await post("/v1/conditioning", {
      prompt: golden.prompts[0].text,
      format: "npy",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tensor-name")).toBe("prompt_embeds");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(String.fromCharCode(...bytes.subarray(1, 6))).toBe("NUMPY");
    const headerLength = bytes[8] | (bytes[9] << 8);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    const expected = goldenRow("last_hidden_state_pad49407", 0);
    expect(header).toContain(`'shape': (1, ${expected.shape.join(", ")})`);
    const data = new Float32Array(bytes.slice(10 + headerLength).buffer);
    expect(maxAbsDiff(data, expected.data)).toBeLessThanOrEqual(1e-4);
  });
});

describe("POST /v1/tokenize", () => {
  it("reports ids, offsets into the prompt and the 75-token window", async () => {
    const prompt = golden.prompts[0].text;
    const response = await post("/v1/tokenize", { prompt });
    const body = (await response.json()) as {
      tokens: { id: number; start: number; end: number }[];
      chunks: { ids: number[] }[];
      token_count: number;
      window: number;
    };
    const goldenIds = (golden.prompts[0] as unknown as { input_ids_pad49407: number[] })
      .input_ids_pad49407;
    expect(body.chunks[0].ids).toEqual(goldenIds);
    expect(body.window).toBe(75);
    expect(body.tokens.length).toBe(Math.min(body.token_count, 75));
    for (const token of body.tokens) {
      expect(token.start).toBeGreaterThanOrEqual(0);
      expect(token.end).toBeLessThanOrEqual(prompt.length);
    }
  });
});
