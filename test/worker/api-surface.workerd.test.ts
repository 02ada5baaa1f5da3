/**
 * The API surface clients expect, in workerd: GET /v1/models/{id}, /v1/models listing only
 * what a model really serves, token-id `input` for /v1/embeddings (same vectors as the text
 * that produced the ids) and the `raw` conditioning format.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { createE2eApp, jsonPost } from "./e2e/e2e-app.ts";
import { post, worker } from "./helpers/client.ts";
import { fixtureBytes, seedBundle } from "./helpers/seed.ts";

interface GoldenPrompt {
  text: string;
  truncated: boolean;
  input_ids_pad49407: number[];
  text_embeds_normalized: number[];
}
interface Model {
  id: string;
  presets: string[];
  serves: string[];
  embedding_inputs: string[];
}
interface Embeddings {
  data: { index: number; embedding: number[] }[];
  usage: { prompt_tokens: number };
}

let prompts: GoldenPrompt[];

beforeAll(async () => {
  await seedBundle();
  const golden = JSON.parse(
    new TextDecoder().decode(await fixtureBytes("fixtures/models/tiny-openai/golden.json")),
  ) as { prompts: GoldenPrompt[] };
  prompts = golden.prompts;
});

/** The HF tokenizer's ids of a golden prompt: SOT, tokens, EOT (padding dropped). */
const idsOf = (p: GoldenPrompt) =>
  p.input_ids_pad49407.slice(0, p.input_ids_pad49407.indexOf(49407) + 1);

const maxAbsDiff = (a: number[], b: number[]) => {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i])));
};

async function errorOf(response: Response, status: number) {
  expect(response.status).toBe(status);
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

const appWith = (vars: Record<string, string>) =>
  createWorkerApp({
    env: {
      MODELS: env.MODELS,
      DEFAULT_MODEL: "tiny-openai",
      CACHE_TTL_SECONDS: "0",
      ...vars,
    } as never,
    runtime: createWorkerOrtRuntime,
  });

describe("GET /v1/models and /v1/models/{id}", () => {
  it("retrieves one model as the list shows it, and 404s an unknown id naming it", async () => {
    const list = (await (await worker.fetch("http://clip-edge/v1/models")).json()) as {
      data: Model[];
    };
    const one = await worker.fetch("http://clip-edge/v1/models/tiny-openai");
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(list.data[0]);
    const error = await errorOf(
      await worker.fetch("http://clip-edge/v1/models/no-such-model"),
      404,
    );
    expect(error.code).toBe("not_found");
    expect(error.message).toContain('"no-such-model"');
  });

  it("a single model lists no sdxl (and sdxl indeed fails); /v1/score and images only with an origin", async () => {
    const model = (await (
      await worker.fetch("http://clip-edge/v1/models/tiny-openai")
    ).json()) as Model;
    expect(model.presets).toEqual(["sd15", "sd2", "flux"]);
    expect(model.serves).toEqual(["/v1/conditioning", "/v1/tokenize", "/v1/embeddings"]);
    expect(model.embedding_inputs).toEqual(["text", "token_ids"]);
    const sdxl = await post("/v1/conditioning", { preset: "sdxl", prompt: "a cat" });
    expect((await errorOf(sdxl, 422)).message).toMatch(/preset sdxl needs 2 model/);
    for (const preset of model.presets) {
      expect((await post("/v1/conditioning", { preset, prompt: "a cat" })).status).toBe(200);
    }

    const withOrigin = (await (
      await createE2eApp().request("/v1/models/tiny-openai")
    ).json()) as Model;
    expect(withOrigin.serves).toContain("/v1/score");
    expect(withOrigin.embedding_inputs).toEqual(["text", "token_ids", "image"]);
  });

  it("a model in a PRESET_MODELS sdxl pair lists sdxl, and serves it", async () => {
    const app = appWith({
      PRESET_MODELS: JSON.stringify({ sdxl: ["tiny-openai", "tiny-openai"] }),
    });
    const model = (await (await app.request("/v1/models/tiny-openai")).json()) as Model;
    expect(model.presets).toContain("sdxl");
    const response = await app.request(
      "/v1/conditioning",
      jsonPost({ preset: "sdxl", prompt: "a cat" }),
    );
    expect(response.status).toBe(200);
  });
});

describe("POST /v1/embeddings with token ids", () => {
  it("ids (number[][], with or without SOT/EOT) embed exactly like the texts that produced them", async () => {
    const chosen = [0, 1, 2, 14, 16].map((i) => prompts[i]); // 14: truncated at 75 tokens; 16: empty
    expect(chosen.some((p) => p.truncated)).toBe(true);
    const texts = (await (
      await post("/v1/embeddings", { input: chosen.map((p) => p.text) })
    ).json()) as Embeddings;
    const ids = chosen.map((p, i) => (i % 2 === 0 ? idsOf(p) : idsOf(p).slice(1, -1)));
    const response = await post("/v1/embeddings", { input: ids });
    expect(response.status).toBe(200);
    const byIds = (await response.json()) as Embeddings;
    expect(byIds.usage.prompt_tokens).toBe(texts.usage.prompt_tokens);
    byIds.data.forEach((item, i) => {
      expect(item.index).toBe(i);
      expect(maxAbsDiff(item.embedding, texts.data[i].embedding)).toBeLessThan(1e-6);
      expect(maxAbsDiff(item.embedding, chosen[i].text_embeds_normalized)).toBeLessThan(1e-4);
    });
  });

  it("one id array (number[]) is one input; /v1/tokenize ids give the same vector", async () => {
    const text = "a photo of a cat";
    const tokenized = (await (await post("/v1/tokenize", { prompt: text })).json()) as {
      tokens: { id: number }[];
    };
    const ids = tokenized.tokens.map((t) => t.id);
    const [a, b] = await Promise.all([
      post("/v1/embeddings", { input: ids, encoding_format: "float" }),
      post("/v1/embeddings", { input: text }),
    ]);
    const [byIds, byText] = [(await a.json()) as Embeddings, (await b.json()) as Embeddings];
    expect(byIds.data).toHaveLength(1);
    expect(maxAbsDiff(byIds.data[0].embedding, byText.data[0].embedding)).toBeLessThan(1e-6);
  });

  it("refuses bad ids with 422 invalid_input naming the place", async () => {
    const cases: [unknown, RegExp][] = [
      [
        [320, 49408],
        /input\[1\] = 49408 is not a token id of model tiny-openai \(an integer from 0 to 49407\)/,
      ],
      [[[320], [320, 1.5]], /input\[1\]\[1\] = 1.5 is not a token id/],
      [[[320], [-1]], /input\[1\]\[0\] = -1/],
      [[[320], []], /input\[1\] is an empty token-id array/],
      [
        [new Array(76).fill(320)],
        /input\[0\] has 76 tokens besides its start\/end tokens; the limit is 75/,
      ],
    ];
    for (const [input, message] of cases) {
      const error = await errorOf(await post("/v1/embeddings", { input }), 422);
      expect(error.code).toBe("invalid_input");
      expect(error.message).toMatch(message);
    }
    const tooMany = await errorOf(
      await post("/v1/embeddings", { input: new Array(65).fill([320]) }),
      413,
    );
    expect(tooMany.message).toMatch(/MAX_PROMPTS/);
    // Mixed ids and texts are not an OpenAI input shape.
    expect(
      (await errorOf(await post("/v1/embeddings", { input: ["a cat", [320]] }), 422)).code,
    ).toBe("invalid_request");
  });
});

describe("POST /v1/conditioning format raw", () => {
  it("answers the tensors' little-endian bytes with their index in X-Tensor-Index", async () => {
    const request = { preset: "sd15", prompt: "a cat", negative_prompt: "blurry" };
    const json = (await (await post("/v1/conditioning", request)).json()) as {
      tensors: Record<string, { shape: number[]; data: number[] }>;
    };
    const response = await post("/v1/conditioning", { ...request, format: "raw" });
    expect(response.status).toBe(200);
    const index = JSON.parse(response.headers.get("X-Tensor-Index")!) as {
      tensors: Record<
        string,
        { dtype: string; shape: number[]; offset: number; byteLength: number }
      >;
    };
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(Object.keys(index.tensors).sort()).toEqual(Object.keys(json.tensors).sort());
    for (const [name, entry] of Object.entries(index.tensors)) {
      expect(entry.shape).toEqual(json.tensors[name].shape);
      const values = new Float32Array(
        bytes.slice(entry.offset, entry.offset + entry.byteLength).buffer,
      );
      expect(
        maxAbsDiff(Array.from(values), json.tensors[name].data.flat(Infinity) as number[]),
      ).toBe(0);
    }
  });
});
