import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenedEncoder, openTextEncoder } from "../../../cli/commands/condition.ts";
import { createTextEmbedder } from "../../../conditioning/conditioner/text-embedder.ts";
import { buildTokenChunks, emptyChunk } from "../../../conditioning/conditioner/token-chunks.ts";
import {
  compelBlend,
  compelLerpWeight,
  weightA1111,
  weightLerpFromEmpty,
} from "../../../conditioning/conditioner/weighting.ts";
import { parseSafetensors, tensorToFloat32 } from "../../../conditioning/formats/safetensors.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { bundleConditioner, prepareFixtureBundles } from "./bundles.ts";
import { encodeRequest } from "./helpers.ts";

function golden(model: string) {
  const json = JSON.parse(readFileSync(fixturePath("models", model, "golden.json"), "utf8")) as {
    prompts: { text: string; truncated: boolean; num_tokens: number }[];
  };
  const st = parseSafetensors(readFileSync(fixturePath("models", model, "golden.safetensors")));
  const tensor = (name: string) => tensorToFloat32(st.tensors.get(name)!, name);
  return { prompts: json.prompts.map((p) => p.text), meta: json.prompts, tensor };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const TOL = 1e-4;
let openai: OpenedEncoder;
let gelu: OpenedEncoder;
let masked: OpenedEncoder;
let cleanup: () => void;

beforeAll(async () => {
  const prepared = await prepareFixtureBundles(["tiny-openai", "tiny-gelu"]);
  const withMask = await prepareFixtureBundles(["tiny-openai"], { attentionMask: true });
  openai = await openTextEncoder(prepared.dirs["tiny-openai"]);
  gelu = await openTextEncoder(prepared.dirs["tiny-gelu"]);
  masked = await openTextEncoder(withMask.dirs["tiny-openai"]);
  cleanup = () => {
    prepared.cleanup();
    withMask.cleanup();
  };
});

afterAll(async () => {
  for (const o of [openai, gelu, masked]) await o?.session.release();
  cleanup?.();
});

describe("presets against the fixture goldens (fp32 bundles, onnxruntime-web)", () => {
  it("sd15 prompt_embeds = last_hidden_state_pad49407 for all 30 prompts (truncated ones included)", async () => {
    const g = golden("tiny-openai");
    const c = bundleConditioner("sd15", openai);
    const r = await encodeRequest(c, { prompts: g.prompts });
    expect(r.tensors.prompt_embeds.shape).toEqual([30, 77, 64]);
    expect(
      maxAbsDiff(r.tensors.prompt_embeds.data, g.tensor("last_hidden_state_pad49407")),
    ).toBeLessThan(TOL);
    // Negative "" = the golden for the empty prompt (one of the 30).
    const empty = g.prompts.indexOf("");
    expect(empty).toBeGreaterThanOrEqual(0);
    const neg = r.tensors.negative_prompt_embeds.data.subarray(0, 77 * 64);
    const ref = g
      .tensor("last_hidden_state_pad49407")
      .subarray(empty * 77 * 64, (empty + 1) * 77 * 64);
    expect(maxAbsDiff(neg, ref)).toBeLessThan(TOL);
    const truncated = g.meta.findIndex((p) => p.truncated);
    expect(r.metadata.prompts[truncated]).toMatchObject({
      truncated: true,
      droppedTokens: g.meta[truncated].num_tokens - 75,
    });
  });

  it("sd15 clip_skip=1 (A1111 clip skip 2) = penultimate_post_ln_pad49407", async () => {
    const g = golden("tiny-openai");
    const c = bundleConditioner("sd15", openai);
    const r = await encodeRequest(c, { prompts: g.prompts, clip_skip: 1 });
    expect(
      maxAbsDiff(r.tensors.prompt_embeds.data, g.tensor("penultimate_post_ln_pad49407")),
    ).toBeLessThan(TOL);
    const a = await encodeRequest(c, { prompts: g.prompts.slice(0, 3), a1111_clip_skip: 2 });
    expect(a.tensors.prompt_embeds.data).toEqual(
      r.tensors.prompt_embeds.data.subarray(0, 3 * 77 * 64),
    );
    // Beyond the exported K=3: diffusers clip_skip 2 -> hidden_states[-3] exists; 3 does not.
    await expect(encodeRequest(c, { prompt: "x", clip_skip: 3 })).rejects.toThrow(/K=3/);
  });

  it("sd2 preset (tiny-gelu, pad 0) = last_hidden_state_pad0", async () => {
    const g = golden("tiny-gelu");
    const c = bundleConditioner("sd2", gelu);
    const r = await encodeRequest(c, { prompts: g.prompts });
    expect(r.tensors.prompt_embeds.shape).toEqual([30, 77, 96]);
    expect(
      maxAbsDiff(r.tensors.prompt_embeds.data, g.tensor("last_hidden_state_pad0")),
    ).toBeLessThan(TOL);
  });

  it("sdxl from tiny-openai + tiny-gelu: [77, 64+96] halves = penultimate_pre_ln goldens, pooled = text_embeds", async () => {
    const g1 = golden("tiny-openai");
    const g2 = golden("tiny-gelu");
    expect(g2.prompts).toEqual(g1.prompts);
    const c = bundleConditioner("sdxl", openai, gelu);
    const r = await encodeRequest(c, { prompts: g1.prompts });
    expect(r.tensors.prompt_embeds.shape).toEqual([30, 77, 160]);
    const pe = r.tensors.prompt_embeds.data;
    const left = new Float32Array(30 * 77 * 64);
    const right = new Float32Array(30 * 77 * 96);
    for (let row = 0; row < 30 * 77; row++) {
      left.set(pe.subarray(row * 160, row * 160 + 64), row * 64);
      right.set(pe.subarray(row * 160 + 64, row * 160 + 160), row * 96);
    }
    const e1 = maxAbsDiff(left, g1.tensor("penultimate_pre_ln_pad49407"));
    const e2 = maxAbsDiff(right, g2.tensor("penultimate_pre_ln_pad0"));
    expect(e1).toBeLessThan(TOL);
    expect(e2).toBeLessThan(TOL);
    expect(r.tensors.pooled_prompt_embeds.shape).toEqual([30, 64]);
    expect(maxAbsDiff(r.tensors.pooled_prompt_embeds.data, g2.tensor("text_embeds"))).toBeLessThan(
      TOL,
    );
    expect(r.tensors.negative_prompt_embeds.data.every((v) => v === 0)).toBe(true);
    expect(r.tensors.negative_pooled_prompt_embeds.shape).toEqual([30, 64]);
  });

  it("flux pooled = tiny-openai pooled", async () => {
    const g = golden("tiny-openai");
    const c = bundleConditioner("flux", openai);
    const r = await encodeRequest(c, { prompts: g.prompts });
    expect(r.tensors.pooled_prompt_embeds.shape).toEqual([30, 64]);
    expect(maxAbsDiff(r.tensors.pooled_prompt_embeds.data, g.tensor("pooled"))).toBeLessThan(TOL);
  });

  it("text embedder (EOT-truncated batches) = text_embeds_normalized for both models", async () => {
    for (const [enc, model] of [
      [openai, "tiny-openai"],
      [gelu, "tiny-gelu"],
    ] as const) {
      const g = golden(model);
      const e = createTextEmbedder({
        session: enc.session,
        tokenizer: enc.binding.tokenizer,
        tensorFactory: enc.session.tensor,
        manifest: enc.bundle.manifest,
        maxBatch: 8,
      });
      const r = await e.embed(g.prompts);
      expect(maxAbsDiff(r.embeddings.data, g.tensor("text_embeds_normalized"))).toBeLessThan(1e-5);
    }
  });
});

describe("weighting on the real graph", () => {
  const run = async (enc: OpenedEncoder, ids: number[], mask?: number[]) => {
    const out = await enc.session.run(
      {
        input_ids: enc.session.tensor("int64", BigInt64Array.from(ids, BigInt), [1, 77]),
        ...(mask
          ? {
              attention_mask: enc.session.tensor(
                "int64",
                BigInt64Array.from(mask, BigInt),
                [1, 77],
              ),
            }
          : {}),
      },
      ["last_hidden_state"],
    );
    return out.last_hidden_state.data as Float32Array;
  };

  it("a1111 and comfy equal their formulas on the graph's own outputs; weight 1 is bit-identical", async () => {
    const c = bundleConditioner("sd15", openai);
    const prompt = "a ((red)) car [in the rain]";
    const parsed = [
      { text: "a ", weight: 1 },
      { text: "red", weight: 1.1 * 1.1 },
      { text: " car ", weight: 1 },
      { text: "in the rain", weight: 1 / 1.1 },
    ];
    const chunk = buildTokenChunks(parsed, openai.binding.tokenizer, {
      mode: "truncate",
      padId: 49407,
    }).chunks[0];
    const z = await run(openai, chunk.ids);
    const empty = await run(openai, emptyChunk(49407).ids);
    const a = await encodeRequest(c, {
      prompt,
      weighting: "a1111",
      do_classifier_free_guidance: false,
    });
    expect(
      maxAbsDiff(a.tensors.prompt_embeds.data, weightA1111(z, chunk.weights, 64)),
    ).toBeLessThan(1e-6);
    const comfyChunk = buildTokenChunks(
      [
        { text: "a ", weight: 1 },
        { text: "red", weight: 1.1 * 1.1 },
        { text: " car [in the rain]", weight: 1 },
      ],
      openai.binding.tokenizer,
      { mode: "truncate", padId: 49407 },
    ).chunks[0];
    const zc = await run(openai, comfyChunk.ids);
    const comfy = await encodeRequest(c, {
      prompt,
      weighting: "comfy",
      do_classifier_free_guidance: false,
    });
    expect(
      maxAbsDiff(
        comfy.tensors.prompt_embeds.data,
        weightLerpFromEmpty(zc, empty, comfyChunk.weights, 64),
      ),
    ).toBeLessThan(1e-6);
    const plain = await encodeRequest(c, {
      prompt: "a red car",
      do_classifier_free_guidance: false,
    });
    const one = await encodeRequest(c, {
      prompt: "a (red:1) car",
      weighting: "a1111",
      do_classifier_free_guidance: false,
    });
    expect(one.tensors.prompt_embeds.data).toEqual(plain.tensors.prompt_embeds.data);
  });

  it("compel down-weighting through attention_mask on a bundle prepared with it", async () => {
    const c = bundleConditioner("sd15", masked);
    const r = await encodeRequest(c, {
      prompt: "a cat with a hat--",
      weighting: "compel",
      do_classifier_free_guidance: false,
    });
    const chunk = buildTokenChunks(
      [
        { text: "a cat with a", weight: 1 },
        { text: "hat", weight: 0.81 },
      ],
      masked.binding.tokenizer,
      { mode: "truncate", padId: 49407 },
    ).chunks[0];
    const z = await run(
      masked,
      chunk.ids,
      chunk.ids.map(() => 1),
    );
    const zMasked = await run(
      masked,
      chunk.ids,
      chunk.fragments.map((f) => (f === 1 ? 0 : 1)),
    );
    const empty = await run(
      masked,
      emptyChunk(49407).ids,
      chunk.ids.map(() => 1),
    );
    const expected = compelBlend(
      weightLerpFromEmpty(z, empty, chunk.weights, 64, false),
      [weightLerpFromEmpty(zMasked, empty, chunk.weights, 64, false)],
      [compelLerpWeight(0.81)],
    );
    expect(maxAbsDiff(r.tensors.prompt_embeds.data, expected)).toBeLessThan(1e-6);
    expect(maxAbsDiff(zMasked, z)).toBeGreaterThan(1e-3);
  });
});
