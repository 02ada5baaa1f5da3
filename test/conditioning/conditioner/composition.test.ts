import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenedEncoder, openTextEncoder } from "../../../cli/commands/condition.ts";
import type { Conditioner } from "../../../conditioning/conditioner/conditioner.ts";
import {
  conditioningMetadataStrings,
  withConditioningTensors,
} from "../../../conditioning/conditioner/metadata.ts";
import type { ConditioningRequest } from "../../../conditioning/conditioner/request-schema.ts";
import { parseSafetensors, tensorToFloat32 } from "../../../conditioning/formats/safetensors.ts";
import { serializeTensors } from "../../../conditioning/formats/serialize-tensors.ts";
import { bundleConditioner, prepareFixtureBundles } from "./bundles.ts";
import { sd15 as fakeSd15, sdxl as fakeSdxl } from "./conditioner-setup.ts";
import { encodeRequest } from "./helpers.ts";

let openai: OpenedEncoder;
let gelu: OpenedEncoder;
let cleanup: () => void;
let sd15: Conditioner;
let sdxl: Conditioner;

beforeAll(async () => {
  const prepared = await prepareFixtureBundles(["tiny-openai", "tiny-gelu"]);
  cleanup = prepared.cleanup;
  openai = await openTextEncoder(prepared.dirs["tiny-openai"]);
  gelu = await openTextEncoder(prepared.dirs["tiny-gelu"]);
  sd15 = bundleConditioner("sd15", openai);
  sdxl = bundleConditioner("sdxl", openai, gelu);
});

afterAll(async () => {
  for (const o of [openai, gelu]) await o?.session.release();
  cleanup?.();
});

/** A direct encoding of one text with the same settings (no composition). */
async function direct(c: Conditioner, prompt: string, extra: ConditioningRequest = {}) {
  const { composition: _c, steps: _s, ...rest } = extra;
  return (await encodeRequest(c, { ...rest, prompt })).tensors;
}

describe("A1111 composition: AND parts and schedules as conditionings (tiny-openai fp32)", () => {
  it("'a cat AND a dog:0.5' gives two conditionings equal to encoding 'a cat' and 'a dog' (weights 1, 0.5)", async () => {
    const request: ConditioningRequest = { weighting: "a1111", composition: "a1111" };
    const r = await encodeRequest(sd15, { ...request, prompt: "a cat AND a dog:0.5" });
    const conds = r.conditionings!;
    expect(conds.map(({ prompt_embeds: _, ...c }) => c)).toEqual([
      { prompt_index: 0, part: 0, text: "a cat", weight: 1, steps: { start: 1, end: 20 } },
      { prompt_index: 0, part: 1, text: " a dog", weight: 0.5, steps: { start: 1, end: 20 } },
    ]);
    const cat = await direct(sd15, "a cat", request);
    const dog = await direct(sd15, "a dog", request);
    expect(conds[0].prompt_embeds!.shape).toEqual([1, 77, 64]);
    expect(conds[0].prompt_embeds!.data).toEqual(cat.prompt_embeds.data);
    expect(conds[1].prompt_embeds!.data).toEqual(dog.prompt_embeds.data);
    expect(conds[0].prompt_embeds!.data).not.toEqual(conds[1].prompt_embeds!.data);
    // The existing tensors are unchanged by the opt-in.
    const plain = await encodeRequest(sd15, { prompt: "a cat AND a dog:0.5", weighting: "a1111" });
    expect(plain.conditionings).toBeUndefined();
    expect(r.tensors.prompt_embeds.data).toEqual(plain.tensors.prompt_embeds.data);
    expect(r.tensors.negative_prompt_embeds.data).toEqual(
      plain.tensors.negative_prompt_embeds.data,
    );
    expect(r.metadata.conditionings).toEqual(conds.map(({ prompt_embeds: _, ...c }) => c));
  });

  it("'a [cat:dog:10] photo' with steps 20 gives steps 1-10 'a cat photo' and 11-20 'a dog photo'", async () => {
    const r = await encodeRequest(sd15, {
      prompt: "a [cat:dog:10] photo",
      syntax: "a1111",
      composition: "a1111",
      steps: 20,
    });
    const conds = r.conditionings!;
    expect(conds.map((c) => [c.text, c.steps, c.weight, c.part])).toEqual([
      ["a cat photo", { start: 1, end: 10 }, 1, 0],
      ["a dog photo", { start: 11, end: 20 }, 1, 0],
    ]);
    const cat = await direct(sd15, "a cat photo", { syntax: "a1111" });
    const dog = await direct(sd15, "a dog photo", { syntax: "a1111" });
    expect(conds[0].prompt_embeds!.data).toEqual(cat.prompt_embeds.data);
    expect(conds[1].prompt_embeds!.data).toEqual(dog.prompt_embeds.data);
    // Fractions resolve against steps: 0.25 of 8 = step 2.
    const frac = await encodeRequest(sd15, {
      prompt: "a [cat:dog:0.25] photo",
      syntax: "a1111",
      composition: "a1111",
      steps: 8,
    });
    expect(frac.conditionings!.map((c) => c.steps)).toEqual([
      { start: 1, end: 2 },
      { start: 3, end: 8 },
    ]);
  });

  it("AND with schedules and emphasis, [a|b] alternation, batches and num_images_per_prompt", async () => {
    const request: ConditioningRequest = {
      prompts: ["(red:1.3) [fox|wolf] AND a [tree::2] forest:0.7", "a cat"],
      weighting: "a1111",
      composition: "a1111",
      steps: 3,
      num_images_per_prompt: 2,
    };
    const r = await encodeRequest(sd15, request);
    const conds = r.conditionings!;
    expect(conds.map((c) => [c.prompt_index, c.part, c.text, c.weight, c.steps])).toEqual([
      [0, 0, "(red:1.3) fox", 1, { start: 1, end: 1 }],
      [0, 0, "(red:1.3) wolf", 1, { start: 2, end: 2 }],
      [0, 0, "(red:1.3) fox", 1, { start: 3, end: 3 }],
      [0, 1, " a tree forest", 0.7, { start: 1, end: 2 }],
      [0, 1, " a  forest", 0.7, { start: 3, end: 3 }],
      [1, 0, "a cat", 1, { start: 1, end: 3 }],
    ]);
    // Identical texts are encoded once and share their tensors.
    expect(conds[2].prompt_embeds).toBe(conds[0].prompt_embeds);
    for (const c of conds) {
      const ref = await direct(sd15, c.text, { ...request, prompts: undefined });
      expect(c.prompt_embeds!.shape).toEqual([2, 77, 64]);
      expect(c.prompt_embeds!.data).toEqual(ref.prompt_embeds.data);
    }
    expect(r.tensors.prompt_embeds.shape).toEqual([4, 77, 64]);
  });

  it("negative prompts get schedules only (AND is plain text there), as A1111's get_learned_conditioning", async () => {
    const request: ConditioningRequest = {
      prompt: "a cat",
      negative_prompt: "[blurry:sharp:0.5] AND ugly",
      syntax: "a1111",
      composition: "a1111",
      steps: 10,
    };
    const r = await encodeRequest(sd15, request);
    const neg = r.negative_conditionings!;
    expect(neg.map((c) => [c.prompt_index, c.part, c.text, c.weight, c.steps])).toEqual([
      [0, 0, "blurry AND ugly", 1, { start: 1, end: 5 }],
      [0, 0, "sharp AND ugly", 1, { start: 6, end: 10 }],
    ]);
    const ref = await direct(sd15, "sharp AND ugly", { syntax: "a1111" });
    expect(neg[1].prompt_embeds!.data).toEqual(ref.prompt_embeds.data);
    expect(r.metadata.negativeConditionings).toHaveLength(2);
    const noGuidance = await encodeRequest(sd15, {
      ...request,
      do_classifier_free_guidance: false,
    });
    expect(noGuidance.negative_conditionings).toBeUndefined();
    expect(noGuidance.conditionings).toHaveLength(1);
  });

  it("sdxl: each conditioning has prompt_embeds [77, 160] and pooled_prompt_embeds equal to a direct encoding", async () => {
    const r = await encodeRequest(sdxl, {
      prompt: "a [cat:dog:5] AND sky:1.5",
      weighting: "a1111",
      composition: "a1111",
      steps: 10,
    });
    const conds = r.conditionings!;
    expect(conds.map((c) => [c.text, c.weight, c.steps])).toEqual([
      ["a cat", 1, { start: 1, end: 5 }],
      ["a dog", 1, { start: 6, end: 10 }],
      [" sky", 1.5, { start: 1, end: 10 }],
    ]);
    for (const c of conds) {
      const ref = await direct(sdxl, c.text, { weighting: "a1111" });
      expect(c.prompt_embeds!.shape).toEqual([1, 77, 160]);
      expect(c.prompt_embeds!.data).toEqual(ref.prompt_embeds.data);
      expect(c.pooled_prompt_embeds!.shape).toEqual([1, 64]);
      expect(c.pooled_prompt_embeds!.data).toEqual(ref.pooled_prompt_embeds.data);
    }
    // sdxl force_zeros: no negative prompt given -> zeros, no negative conditionings.
    expect(r.negative_conditionings).toBeUndefined();
  });

  it("flux (pooled only): conditionings carry pooled_prompt_embeds equal to a direct encoding", async () => {
    const flux = bundleConditioner("flux", openai);
    const r = await encodeRequest(flux, {
      prompt: "a [cat|dog]",
      syntax: "a1111",
      composition: "a1111",
      steps: 2,
    });
    const conds = r.conditionings!;
    expect(conds.map((c) => c.text)).toEqual(["a cat", "a dog"]);
    for (const c of conds) {
      expect(c.prompt_embeds).toBeUndefined();
      const ref = await direct(flux, c.text, { syntax: "a1111" });
      expect(c.pooled_prompt_embeds!.data).toEqual(ref.pooled_prompt_embeds.data);
    }
  });

  it("chunk mode: conditionings share the request's chunk count (empty-prompt chunks appended)", async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const r = await encodeRequest(sd15, {
      prompt: `${long} AND a cat`,
      weighting: "a1111",
      long_prompt: "chunk",
      composition: "a1111",
    });
    const n = r.tensors.prompt_embeds.shape[1];
    expect(n).toBeGreaterThan(77);
    const conds = r.conditionings!;
    expect(conds.every((c) => c.prompt_embeds!.shape[1] === n)).toBe(true);
    const cat = await direct(sd15, "a cat", { weighting: "a1111", long_prompt: "chunk" });
    expect(conds[1].prompt_embeds!.data.subarray(0, 77 * 64)).toEqual(cat.prompt_embeds.data);
  });

  it("safetensors: conditionings as prompt_embeds.cond<i> with their ranges in the metadata", async () => {
    const r = await encodeRequest(sd15, {
      prompt: "a [cat:dog:10] photo",
      syntax: "a1111",
      composition: "a1111",
    });
    const file = serializeTensors(withConditioningTensors(r), {
      format: "safetensors",
      metadata: conditioningMetadataStrings(r.metadata),
    });
    const st = parseSafetensors(file.bytes);
    expect([...st.tensors.keys()].sort()).toEqual([
      "negative_prompt_embeds",
      "negative_prompt_embeds.cond0",
      "prompt_embeds",
      "prompt_embeds.cond0",
      "prompt_embeds.cond1",
    ]);
    const cond1 = tensorToFloat32(st.tensors.get("prompt_embeds.cond1")!, "prompt_embeds.cond1");
    expect(cond1).toEqual(r.conditionings![1].prompt_embeds!.data);
    const meta = JSON.parse(st.metadata!.conditionings);
    expect(meta.map((c: { steps: unknown }) => c.steps)).toEqual([
      { start: 1, end: 10 },
      { start: 11, end: 20 },
    ]);
    expect(JSON.parse(st.metadata!.negative_conditionings)).toHaveLength(1);
  });
});

describe("A1111 composition: request rules", () => {
  it("needs the A1111 syntax; steps needs composition; no prompt_2; a limit on conditionings", async () => {
    const { conditioner } = fakeSd15();
    await expect(
      encodeRequest(conditioner, { prompt: "a AND b", composition: "a1111" }),
    ).rejects.toThrow(/A1111 syntax/);
    await expect(
      encodeRequest(conditioner, { prompt: "a AND b", weighting: "comfy", composition: "a1111" }),
    ).rejects.toThrow(/A1111 syntax/);
    await expect(
      encodeRequest(conditioner, { prompt: "a", syntax: "a1111", steps: 10 }),
    ).rejects.toThrow(/composition/);
    await expect(
      encodeRequest(conditioner, { prompt: "a", syntax: "a1111", composition: "a1111", steps: 0 }),
    ).rejects.toThrow(/steps/);
    await expect(
      encodeRequest(conditioner, {
        prompt: "a",
        syntax: "a1111",
        composition: "a1111",
        steps: 2.5,
      }),
    ).rejects.toThrow(/steps/);
    await expect(
      encodeRequest(conditioner, {
        prompt: "a",
        syntax: "a1111",
        composition: "zzz" as "a1111",
      }),
    ).rejects.toMatchObject({ code: "invalid_request" });
    await expect(
      encodeRequest(fakeSdxl().conditioner, {
        prompt: "a AND b",
        prompt_2: "c",
        syntax: "a1111",
        composition: "a1111",
      }),
    ).rejects.toThrow(/prompt_2/);
    const many = await encodeRequest(conditioner, {
      prompt: "[a|b]",
      syntax: "a1111",
      composition: "a1111",
      steps: 300,
    }).catch((e) => e);
    expect(many).toMatchObject({ code: "too_large" });
  });

  it("without AND or schedules: one conditioning (weight 1, all steps) equal to the prompt tensor", async () => {
    const { conditioner } = fakeSd15();
    const r = await encodeRequest(conditioner, {
      prompt: "a (cat:1.2)",
      weighting: "a1111",
      composition: "a1111",
      steps: 30,
    });
    expect(r.conditionings).toHaveLength(1);
    expect(r.conditionings![0]).toMatchObject({ weight: 1, steps: { start: 1, end: 30 } });
    expect(r.conditionings![0].prompt_embeds!.data).toEqual(r.tensors.prompt_embeds.data);
  });
});
