import { describe, expect, it } from "vitest";
import { buildComfyChunks } from "../../../conditioning/conditioner/comfy-chunks.ts";
import { EOT_ID, SOT_ID } from "../../../conditioning/conditioner/token-chunks.ts";
import { ids77, sd15 } from "./conditioner-setup.ts";
import { encodeRequest, fixtureTokenizer } from "./helpers.ts";

const tok = fixtureTokenizer();
const words = (n: number, word = "cat") => Array.from({ length: n }, () => word).join(" ");
// "antidisestablishmentarianism" is one word of many BPE tokens.
const LONG_WORD = "antidisestablishmentarianismxyzq";

describe("ComfyUI chunking", () => {
  it("a short word that does not fit moves whole to the next chunk", () => {
    const two = "photosynthesis"; // several tokens, < 8
    const n = tok.encode(two).length;
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThan(8);
    const text = `${words(74)} ${two} dog`;
    const r = buildComfyChunks([{ text, weight: 1.1 }], tok, { padId: 49407 });
    expect(r.chunks.map((c) => c.tokenCount)).toEqual([74, n + 1]);
    expect(r.chunks[0].ids[75]).toBe(EOT_ID);
    expect(r.chunks[1].ids.slice(0, n + 2)).toEqual([
      SOT_ID,
      ...tok.encode(two),
      ...tok.encode("dog"),
    ]);
    expect(r.chunks[1].weights.slice(1, n + 2)).toEqual(new Array(n + 1).fill(1.1));
  });

  it("a word of 8+ tokens is split across chunks", () => {
    const n = tok.encode(LONG_WORD).length;
    expect(n).toBeGreaterThanOrEqual(8);
    const r = buildComfyChunks([{ text: `${words(72)} ${LONG_WORD}`, weight: 1 }], tok, {
      padId: 0,
    });
    expect(r.chunks.map((c) => c.tokenCount)).toEqual([75, n - 3]);
    expect(r.tokenCount).toBe(72 + n);
  });

  it("words are split on spaces and newlines and tokenised one by one; empty gives one empty chunk", () => {
    const r = buildComfyChunks([{ text: "a\nred  car", weight: 1 }], tok, { padId: 0 });
    expect(r.chunks).toHaveLength(1);
    expect(r.chunks[0].ids.slice(0, 5)).toEqual([
      SOT_ID,
      ...tok.encode("a"),
      ...tok.encode("red"),
      ...tok.encode("car"),
      EOT_ID,
    ]);
    const e = buildComfyChunks([], tok, { padId: 0 });
    expect(e.chunks).toHaveLength(1);
    expect(e.chunks[0].tokenCount).toBe(0);
  });

  it("the conditioner uses it for comfy syntax in chunk mode", async () => {
    const { conditioner } = sd15();
    const r = await encodeRequest(conditioner, {
      prompt: `${words(74)} photosynthesis`,
      weighting: "comfy",
      long_prompt: "chunk",
    });
    expect(r.tensors.prompt_embeds.shape).toEqual([1, 154, 8]);
    expect(r.metadata.prompts[0].chunks).toBe(2);
    const a = await encodeRequest(conditioner, {
      prompt: `${words(74)} photosynthesis`,
      weighting: "a1111",
      long_prompt: "chunk",
    });
    expect(a.tensors.prompt_embeds.shape).toEqual([1, 154, 8]);
    expect(a.tensors.prompt_embeds.data).not.toEqual(r.tensors.prompt_embeds.data);
    expect(ids77("cat", 0)).toHaveLength(77);
  });
});
