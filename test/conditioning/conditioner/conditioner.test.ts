import { describe, expect, it } from "vitest";
import { createConditioner } from "../../../conditioning/conditioner/conditioner.ts";
import { buildTokenChunks, emptyChunk } from "../../../conditioning/conditioner/token-chunks.ts";
import {
  compelBlend,
  compelLerpWeight,
  weightA1111,
  weightLerpFromEmpty,
} from "../../../conditioning/conditioner/weighting.ts";
import { ids77, sd15, sdxl, tokenizer } from "./conditioner-setup.ts";
import { createFakeTextSession, fakeRun, tensorFactory } from "./fake-text-session.ts";
import { encodeRequest } from "./helpers.ts";

describe("conditioner: presets", () => {
  it("sd15: prompt_embeds = last_hidden_state, negative = encoding of '', only needed outputs fetched", async () => {
    const { session, conditioner } = sd15();
    const r = await encodeRequest(conditioner, { prompt: "a photo of a cat" });
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 77, 8]);
    expect(r.tensors.prompt_embeds.data).toEqual(
      await fakeRun(session, ids77("a photo of a cat", 49407), "last_hidden_state"),
    );
    expect(r.tensors.negative_prompt_embeds.data).toEqual(
      await fakeRun(session, ids77("", 49407), "last_hidden_state"),
    );
    expect(r.tensors.pooled_prompt_embeds).toBeUndefined();
    expect(session.calls).toHaveLength(1 + 2); // one pipeline run + the two reference runs
    expect(session.calls[0].fetches).toEqual(["last_hidden_state"]);
    expect(session.calls[0].dims).toEqual([2, 77]); // empty prompt de-duplicated with the negative
    expect(r.metadata.prompts[0].tokenCount).toBe(5);
    expect(r.metadata.models).toEqual([{ id: "tiny", hash: "abc" }]);
  });

  it("sd15 clip_skip k reads hidden_states_ln_{k+1}; A1111 spelling is k+1; negatives ignore it by default", async () => {
    const { session, conditioner } = sd15();
    const a = await encodeRequest(conditioner, { prompt: "cat", clip_skip: 1 });
    const b = await encodeRequest(conditioner, { prompt: "cat", a1111_clip_skip: 2 });
    expect(a.tensors.prompt_embeds.data).toEqual(
      await fakeRun(session, ids77("cat", 49407), "hidden_states_ln_2"),
    );
    expect(b.tensors.prompt_embeds.data).toEqual(a.tensors.prompt_embeds.data);
    expect(a.tensors.negative_prompt_embeds.data).toEqual(
      await fakeRun(session, ids77("", 49407), "last_hidden_state"),
    );
    const c = await encodeRequest(conditioner, {
      prompt: "cat",
      clip_skip: 1,
      clip_skip_negative: true,
    });
    expect(c.tensors.negative_prompt_embeds.data).toEqual(
      await fakeRun(session, ids77("", 49407), "hidden_states_ln_2"),
    );
    const none = await encodeRequest(conditioner, { prompt: "cat", a1111_clip_skip: 1 });
    expect(none.metadata.clipSkip).toBe(0);
  });

  it("clip skip beyond the exported hidden states is an error naming K", async () => {
    const { conditioner } = sd15({ exported: 3 });
    await expect(encodeRequest(conditioner, { prompt: "cat", clip_skip: 3 })).rejects.toThrow(
      /K=3/,
    );
    await expect(
      encodeRequest(conditioner, { prompt: "cat", clip_skip: 1, a1111_clip_skip: 3 }),
    ).rejects.toThrow(/disagree/);
    await expect(encodeRequest(conditioner, { prompt: "cat", clip_skip: -1 })).rejects.toThrow(
      /clip_skip/,
    );
  });

  it("sdxl: concat of both hidden_states[-2] (no final LN), pooled = encoder 2 text_embeds, zeros for no negative", async () => {
    const { s1, s2, conditioner } = sdxl();
    const r = await encodeRequest(conditioner, { prompt: "a red car" });
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 77, 10]);
    const h1 = await fakeRun(s1, ids77("a red car", 49407), "hidden_states_2");
    const h2 = await fakeRun(s2, ids77("a red car", 0), "hidden_states_2");
    for (let t = 0; t < 77; t++) {
      expect(r.tensors.prompt_embeds.data.subarray(t * 10, t * 10 + 4)).toEqual(
        h1.subarray(t * 4, t * 4 + 4),
      );
      expect(r.tensors.prompt_embeds.data.subarray(t * 10 + 4, t * 10 + 10)).toEqual(
        h2.subarray(t * 6, t * 6 + 6),
      );
    }
    expect(r.tensors.pooled_prompt_embeds.shape).toEqual([1, 5]);
    expect(r.tensors.pooled_prompt_embeds.data).toEqual(
      await fakeRun(s2, ids77("a red car", 0), "text_embeds"),
    );
    expect(r.tensors.negative_prompt_embeds.data.every((v) => v === 0)).toBe(true);
    expect(r.tensors.negative_pooled_prompt_embeds.data.every((v) => v === 0)).toBe(true);
    expect(r.tensors.negative_pooled_prompt_embeds.shape).toEqual([1, 5]);
    // An explicit "" is encoded, not zeroed.
    const e = await encodeRequest(conditioner, { prompt: "a red car", negative_prompt: "" });
    expect(e.tensors.negative_pooled_prompt_embeds.data).toEqual(
      await fakeRun(s2, ids77("", 0), "text_embeds"),
    );
    // clip_skip 1 -> hidden_states[-3].
    const k = await encodeRequest(conditioner, { prompt: "a red car", clip_skip: 1 });
    const h1k = await fakeRun(s1, ids77("a red car", 49407), "hidden_states_3");
    expect(k.tensors.prompt_embeds.data.subarray(0, 4)).toEqual(h1k.subarray(0, 4));
  });

  it("flux: CLIP-L pooled only, negative only when given", async () => {
    const session = createFakeTextSession({ width: 8 });
    const c = createConditioner({
      preset: "flux",
      encoders: [{ id: "l", session, tokenizer }],
      tensorFactory,
    });
    const r = await encodeRequest(c, { prompt: "a cat" });
    expect(Object.keys(r.tensors)).toEqual(["pooled_prompt_embeds"]);
    expect(r.tensors.pooled_prompt_embeds.data).toEqual(
      await fakeRun(session, ids77("a cat", 49407), "pooled"),
    );
    expect(session.calls[0].fetches).toEqual(["pooled"]);
    // Pooled only: the run stops at the EOT ("a cat" = SOT + 2 tokens + EOT).
    expect(session.calls[0].dims).toEqual([2, 4]);
    const n = await encodeRequest(c, { prompt: "a cat", negative_prompt: "dog" });
    expect(Object.keys(n.tensors).sort()).toEqual([
      "negative_pooled_prompt_embeds",
      "pooled_prompt_embeds",
    ]);
  });

  it("batches and num_images_per_prompt repeat rows per prompt (a, a, b, b)", async () => {
    const { session, conditioner } = sd15();
    const r = await encodeRequest(conditioner, {
      prompts: ["a cat", "a dog"],
      negative_prompt: ["x", "y"],
      num_images_per_prompt: 2,
    });
    expect(r.tensors.prompt_embeds.shape).toEqual([4, 77, 8]);
    const size = 77 * 8;
    const row = (t: { data: Float32Array }, i: number) => t.data.subarray(i * size, (i + 1) * size);
    const cat = await fakeRun(session, ids77("a cat", 49407), "last_hidden_state");
    const dog = await fakeRun(session, ids77("a dog", 49407), "last_hidden_state");
    expect(row(r.tensors.prompt_embeds, 0)).toEqual(cat);
    expect(row(r.tensors.prompt_embeds, 1)).toEqual(cat);
    expect(row(r.tensors.prompt_embeds, 2)).toEqual(dog);
    expect(row(r.tensors.prompt_embeds, 3)).toEqual(dog);
    expect(row(r.tensors.negative_prompt_embeds, 3)).toEqual(
      await fakeRun(session, ids77("y", 49407), "last_hidden_state"),
    );
    await expect(
      encodeRequest(conditioner, { prompts: ["a"], negative_prompt: ["x", "y"] }),
    ).rejects.toThrow(/2 entries for 1/);
    await expect(encodeRequest(conditioner, { prompts: [] })).rejects.toThrow(/non-empty/);
  });

  it("do_classifier_free_guidance false gives no negative tensors", async () => {
    const { conditioner } = sd15();
    const r = await encodeRequest(conditioner, { prompt: "a", do_classifier_free_guidance: false });
    expect(Object.keys(r.tensors)).toEqual(["prompt_embeds"]);
  });
});

describe("conditioner: long prompts", () => {
  const long = Array.from({ length: 100 }, (_, i) => (i % 2 ? "cat" : "dog")).join(" ");

  it("chunk mode refuses prompts beyond maxChunks with too_large", async () => {
    const session = createFakeTextSession({ width: 8 });
    const c = createConditioner({
      preset: "sd15",
      encoders: [{ id: "t", session, tokenizer }],
      tensorFactory,
      maxChunks: 2,
    });
    const huge = Array.from({ length: 160 }, () => "cat").join(" ");
    await expect(encodeRequest(c, { prompt: huge, long_prompt: "chunk" })).rejects.toMatchObject({
      code: "too_large",
    });
    expect(session.calls).toHaveLength(0);
    // Truncation is unaffected by the limit.
    expect((await encodeRequest(c, { prompt: huge })).tensors.prompt_embeds.shape).toEqual([
      1, 77, 8,
    ]);
  });

  it("truncate (default) reports dropped tokens", async () => {
    const { conditioner } = sd15();
    const r = await encodeRequest(conditioner, { prompt: long });
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 77, 8]);
    expect(r.metadata.prompts[0]).toMatchObject({
      tokenCount: 100,
      truncated: true,
      droppedTokens: 25,
    });
    expect(r.metadata.prompts[0].droppedText.split(" ")).toHaveLength(25);
  });

  it("chunk: 77 x n, chunks encoded separately, negative padded with empty chunks, pooled from chunk 1", async () => {
    const { s1, s2, conditioner } = sdxl();
    const r = await encodeRequest(conditioner, {
      prompt: long,
      negative_prompt: "blurry",
      long_prompt: "chunk",
    });
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 154, 10]);
    expect(r.tensors.negative_prompt_embeds.shape).toEqual([1, 154, 10]);
    const chunks = buildTokenChunks([{ text: long, weight: 1 }], tokenizer, {
      mode: "chunk",
      padId: 0,
    }).chunks;
    expect(chunks.map((c) => c.tokenCount)).toEqual([75, 25]);
    const second = await fakeRun(s2, chunks[1].ids, "hidden_states_2");
    const pe = r.tensors.prompt_embeds.data;
    for (let t = 0; t < 77; t++) {
      expect(pe.subarray((77 + t) * 10 + 4, (77 + t) * 10 + 10)).toEqual(
        second.subarray(t * 6, t * 6 + 6),
      );
    }
    const emptyL = await fakeRun(s1, emptyChunk(49407).ids, "hidden_states_2");
    const ne = r.tensors.negative_prompt_embeds.data;
    for (let t = 0; t < 77; t++) {
      expect(ne.subarray((77 + t) * 10, (77 + t) * 10 + 4)).toEqual(
        emptyL.subarray(t * 4, t * 4 + 4),
      );
    }
    expect(r.tensors.pooled_prompt_embeds.data).toEqual(
      await fakeRun(s2, chunks[0].ids, "text_embeds"),
    );
    expect(r.metadata.prompts[0]).toMatchObject({ chunks: 2, truncated: false });
    expect(r.metadata.negativePrompts[0]).toMatchObject({ chunks: 1 });
    expect(r.metadata.sequenceLength).toBe(154);
  });
});

describe("conditioner: weighting end to end", () => {
  it("all weights 1 are bit-identical to unweighted encoding, for every weighting", async () => {
    const { conditioner } = sd15();
    const plain = await encodeRequest(conditioner, { prompt: "a cat on a mat" });
    for (const weighting of ["a1111", "a1111-no-norm", "comfy"] as const) {
      const w = await encodeRequest(conditioner, { prompt: "a (cat:1.0) on a mat", weighting });
      expect(w.tensors.prompt_embeds.data).toEqual(plain.tensors.prompt_embeds.data);
    }
  });

  it("a1111 through the pipeline equals the formula on the raw encoding", async () => {
    const { session, conditioner } = sd15();
    const r = await encodeRequest(conditioner, { prompt: "a (cat:1.5) [dog]", weighting: "a1111" });
    const chunk = buildTokenChunks(
      [
        { text: "a ", weight: 1 },
        { text: "cat", weight: 1.5 },
        { text: " ", weight: 1 },
        { text: "dog", weight: 1 / 1.1 },
      ],
      tokenizer,
      { mode: "truncate", padId: 49407 },
    ).chunks[0];
    const z = await fakeRun(session, chunk.ids, "last_hidden_state");
    expect(r.tensors.prompt_embeds.data).toEqual(weightA1111(z, chunk.weights, 8));
  });

  it("comfy through the pipeline equals z_empty + (z - z_empty) * w", async () => {
    const { session, conditioner } = sd15();
    const r = await encodeRequest(conditioner, { prompt: "a (cat:1.3) dog", weighting: "comfy" });
    const chunk = buildTokenChunks(
      [
        { text: "a ", weight: 1 },
        { text: "cat", weight: 1.3 },
        { text: " dog", weight: 1 },
      ],
      tokenizer,
      { mode: "truncate", padId: 49407 },
    ).chunks[0];
    const z = await fakeRun(session, chunk.ids, "last_hidden_state");
    const empty = await fakeRun(session, emptyChunk(49407).ids, "last_hidden_state");
    expect(r.tensors.prompt_embeds.data).toEqual(
      weightLerpFromEmpty(z, empty, chunk.weights, 8, true),
    );
    expect(r.tensors.prompt_embeds.data).not.toEqual(z);
  });

  it("compel down-weight masks the fragment via attention_mask and blends with tan weights", async () => {
    const session = createFakeTextSession({ width: 8 });
    const parsed = [
      ["a cat", 1.2],
      ["with a hat", 0.5],
    ];
    const c = createConditioner({
      preset: "sd15",
      encoders: [{ id: "t", session, tokenizer }],
      tensorFactory,
      parsers: {
        compel: () => ({
          fragments: [{ kind: "prompt", conjunction_weight: 1, fragments: parsed }],
        }),
      },
    });
    const r = await encodeRequest(c, { prompt: "(a cat)1.2 (with a hat)0.5", weighting: "compel" });
    const chunk = buildTokenChunks(
      parsed.map(([text, weight]) => ({ text: text as string, weight: weight as number })),
      tokenizer,
      { mode: "truncate", padId: 49407 },
    ).chunks[0];
    const z = await fakeRun(session, chunk.ids, "last_hidden_state");
    const mask = chunk.fragments.map((f) => (f === 1 ? 0 : 1));
    expect(mask.filter((m) => m === 0)).toHaveLength(3);
    const zMasked = await fakeRun(session, chunk.ids, "last_hidden_state", mask);
    const empty = await fakeRun(session, emptyChunk(49407).ids, "last_hidden_state");
    const base = weightLerpFromEmpty(z, empty, chunk.weights, 8, false);
    const without = weightLerpFromEmpty(zMasked, empty, chunk.weights, 8, false);
    const expected = compelBlend(base, [without], [compelLerpWeight(0.5)]);
    expect(r.tensors.prompt_embeds.data).toEqual(expected);
    const sent = session.calls[0];
    expect(sent.mask).toBeDefined();
  });

  it("compel down-weighting on a graph without attention_mask is a clear error", async () => {
    const session = createFakeTextSession({ width: 8, attentionMask: false });
    const c = createConditioner({
      preset: "sd15",
      encoders: [{ id: "nomask", session, tokenizer }],
      tensorFactory,
      parsers: { compel: () => [["a", 0.5]] },
    });
    await expect(encodeRequest(c, { prompt: "a-", weighting: "compel" })).rejects.toThrow(
      /attention_mask/,
    );
  });

  it("non-finite weights are rejected (comfy inf)", async () => {
    const { session, conditioner } = sd15();
    await expect(
      encodeRequest(conditioner, { prompt: "(cat:inf)", weighting: "comfy" }),
    ).rejects.toThrow(/not a finite number/);
    expect(session.calls).toHaveLength(0);
  });
});
