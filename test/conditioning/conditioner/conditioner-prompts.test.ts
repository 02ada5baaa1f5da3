import { describe, expect, it } from "vitest";
import { createConditioner } from "../../../conditioning/conditioner/conditioner.ts";
import { buildTokenChunks } from "../../../conditioning/conditioner/token-chunks.ts";
import { ids77, sd15, sdxl, tokenizer } from "./conditioner-setup.ts";
import { createFakeTextSession, fakeRun, tensorFactory } from "./fake-text-session.ts";
import { encodeRequest } from "./helpers.ts";

describe("conditioner: default parsers", () => {
  it("compel syntax through the real parser: word- masks the word, word+ lerps up", async () => {
    const session = createFakeTextSession({ width: 8 });
    const c = createConditioner({
      preset: "sd15",
      encoders: [{ id: "t", session, tokenizer }],
      tensorFactory,
    });
    const r = await encodeRequest(c, { prompt: "a cat++ with a hat-", weighting: "compel" });
    // compel: fragments a (1.0), cat (1.21), with a (1.0), hat (0.9)
    const sent = session.calls[0];
    expect(sent.mask).toBeDefined();
    const masked = sent.mask!.filter((m) => m === 0n).length;
    expect(masked).toBe(tokenizer.encode("hat").length);
    const plain = await encodeRequest(c, { prompt: "a cat with a hat", weighting: "compel" });
    expect(r.tensors.prompt_embeds.data).not.toEqual(plain.tensors.prompt_embeds.data);
    const none = await encodeRequest(c, { prompt: "a cat with a hat" });
    expect(plain.tensors.prompt_embeds.data).toEqual(none.tensors.prompt_embeds.data);
  });

  it("compel .blend() is the normalised weighted sum of the members' encodings", async () => {
    const { session, conditioner } = sd15();
    const r = await encodeRequest(conditioner, {
      prompt: '("a cat", "a dog").blend(0.7, 0.3)',
      weighting: "compel",
      do_classifier_free_guidance: false,
    });
    const cat = await fakeRun(session, ids77("a cat", 49407), "last_hidden_state");
    const dog = await fakeRun(session, ids77("a dog", 49407), "last_hidden_state");
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 77, 8]);
    r.tensors.prompt_embeds.data.forEach((v, i) => {
      expect(v).toBeCloseTo((0.7 * cat[i] + 0.3 * dog[i]) / 1.0, 6);
    });
  });

  it("compel .and() concatenates along tokens, lerping weighted parts from the empty prompt", async () => {
    const { session, conditioner } = sd15();
    const r = await encodeRequest(conditioner, {
      prompt: '("a cat", "a dog").and(1, 0.5)',
      weighting: "compel",
    });
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 154, 8]);
    // The negative ("") is padded with an empty chunk to the same length.
    expect(r.tensors.negative_prompt_embeds.shape).toEqual([1, 154, 8]);
    const cat = await fakeRun(session, ids77("a cat", 49407), "last_hidden_state");
    const dog = await fakeRun(session, ids77("a dog", 49407), "last_hidden_state");
    const empty = await fakeRun(session, ids77("", 49407), "last_hidden_state");
    const pe = r.tensors.prompt_embeds.data;
    expect(pe.subarray(0, 77 * 8)).toEqual(cat);
    pe.subarray(77 * 8).forEach((v, i) => {
      expect(v).toBeCloseTo(empty[i] + (dog[i] - empty[i]) * 0.5, 6);
    });
    expect(r.tensors.negative_prompt_embeds.data.subarray(77 * 8)).toEqual(empty);
    expect(r.metadata.prompts[0].chunks).toBe(2);
  });

  it("compel .swap() encodes the original prompt; A1111 parse failures are clear errors", async () => {
    const { session, conditioner } = sd15();
    const r = await encodeRequest(conditioner, { prompt: "a cat.swap(dog)", weighting: "compel" });
    expect(r.tensors.prompt_embeds.data).toEqual(
      await fakeRun(
        session,
        buildTokenChunks(
          [
            { text: "a", weight: 1 },
            { text: "cat", weight: 1 },
          ],
          tokenizer,
          { mode: "truncate", padId: 49407 },
        ).chunks[0].ids,
        "last_hidden_state",
      ),
    );
    await expect(
      encodeRequest(conditioner, { prompt: "(word:1.2.3)", weighting: "a1111" }),
    ).rejects.toThrow(/ValueError/);
    await expect(
      encodeRequest(conditioner, { prompt: '("a", "b").blend(1)', weighting: "compel" }),
    ).rejects.toThrow(/ParsingException|blend/);
  });
});

describe("conditioner: sdxl prompt_2", () => {
  it("encoder 2 reads prompt_2 / negative_prompt_2 (defaulting to prompt / negative_prompt)", async () => {
    const { s1, s2, conditioner } = sdxl();
    const r = await encodeRequest(conditioner, {
      prompt: "a red car",
      prompt_2: "oil painting",
      negative_prompt: "blurry",
      negative_prompt_2: "low quality",
    });
    const left = (d: Float32Array) =>
      Float32Array.from({ length: 77 * 4 }, (_, i) => d[Math.floor(i / 4) * 10 + (i % 4)]);
    const right = (d: Float32Array) =>
      Float32Array.from({ length: 77 * 6 }, (_, i) => d[Math.floor(i / 6) * 10 + 4 + (i % 6)]);
    expect(left(r.tensors.prompt_embeds.data)).toEqual(
      await fakeRun(s1, ids77("a red car", 49407), "hidden_states_2"),
    );
    expect(right(r.tensors.prompt_embeds.data)).toEqual(
      await fakeRun(s2, ids77("oil painting", 0), "hidden_states_2"),
    );
    expect(r.tensors.pooled_prompt_embeds.data).toEqual(
      await fakeRun(s2, ids77("oil painting", 0), "text_embeds"),
    );
    expect(right(r.tensors.negative_prompt_embeds.data)).toEqual(
      await fakeRun(s2, ids77("low quality", 0), "hidden_states_2"),
    );
    expect(left(r.tensors.negative_prompt_embeds.data)).toEqual(
      await fakeRun(s1, ids77("blurry", 49407), "hidden_states_2"),
    );
    // Without negative_prompt, force_zeros applies even when negative_prompt_2 is given (diffusers).
    const z = await encodeRequest(conditioner, { prompt: "a", negative_prompt_2: "x" });
    expect(z.tensors.negative_prompt_embeds.data.every((v) => v === 0)).toBe(true);
    // An empty prompt_2 falls back to prompt (diffusers: prompt_2 or prompt).
    const same = await encodeRequest(conditioner, { prompt: "a red car", prompt_2: "" });
    expect(right(same.tensors.prompt_embeds.data)).toEqual(
      await fakeRun(s2, ids77("a red car", 0), "hidden_states_2"),
    );
  });

  it("prompt_2 on a one-encoder preset, or with the wrong batch size, is an error", async () => {
    const { conditioner } = sd15();
    await expect(encodeRequest(conditioner, { prompt: "a", prompt_2: "b" })).rejects.toThrow(
      /two-encoder/,
    );
    const { conditioner: xl } = sdxl();
    await expect(encodeRequest(xl, { prompts: ["a", "b"], prompt_2: ["c"] })).rejects.toThrow(
      /prompt_2/,
    );
  });

  it("chunk mode pads each encoder to the longest of prompt and prompt_2", async () => {
    const { conditioner } = sdxl();
    const long = Array.from({ length: 100 }, () => "cat").join(" ");
    const r = await encodeRequest(conditioner, {
      prompt: "short",
      prompt_2: long,
      long_prompt: "chunk",
    });
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 154, 10]);
    expect(r.tensors.negative_prompt_embeds.shape).toEqual([1, 154, 10]);
  });
});
