import { describe, expect, it } from "vitest";
import { createSyntheticVocab } from "../../bench/workerd/synthetic-vocab.ts";
import { createTokenizer } from "../../conditioning/tokenizer/index.ts";

describe("synthetic bench vocabulary", () => {
  it("is a working CLIP BPE tokenizer with ids inside CLIP's 49408 rows", () => {
    const { vocab, merges } = createSyntheticVocab();
    const tokenizer = createTokenizer({
      vocab,
      merges: `#version: 0.2\n${merges.join("\n")}\n`,
    });
    const { ids } = tokenizer.encodeForModel("a photo of a cat, 42 ÅÄÖ", { maxLength: 77 });
    expect(ids.length).toBe(77);
    expect(Math.max(...ids)).toBeLessThan(49408);
    expect(ids[0]).toBe(vocab["<|startoftext|>"]);
    expect(ids).toContain(vocab["<|endoftext|>"]);
    // Letter pairs merge (5 letters -> 3 tokens) and decode back.
    const photo = tokenizer.encode("photo");
    expect(photo.length).toBe(3);
    expect(tokenizer.decode(photo).trim()).toBe("photo");
  });
});
