import { describe, expect, it } from "vitest";
import { createTextEmbedder } from "../../../conditioning/conditioner/text-embedder.ts";
import { l2Normalize } from "../../../conditioning/scoring/normalize.ts";
import { createFakeTextSession, fakeRun, tensorFactory } from "./fake-text-session.ts";
import { fixtureTokenizer } from "./helpers.ts";

const tokenizer = fixtureTokenizer();

describe("text embedder", () => {
  it("runs each batch only up to its longest EOT and returns normalised text_embeds in input order", async () => {
    const session = createFakeTextSession({ width: 8, projection: 6 });
    const embedder = createTextEmbedder({ session, tokenizer, tensorFactory, maxBatch: 2 });
    const texts = ["a very long prompt about a dog in a park", "cat", "a red car"];
    const r = await embedder.embed(texts);
    expect(r.embeddings.shape).toEqual([3, 6]);
    // Sorted by length into batches of 2: ["cat", "a red car"] then the long one.
    expect(session.calls.map((c) => c.dims)).toEqual([
      [2, 5],
      [1, 2 + tokenizer.encode(texts[0]).length],
    ]);
    expect(session.calls[0].fetches).toEqual(["text_embeds"]);
    for (let i = 0; i < texts.length; i++) {
      const full = await fakeRun(
        session,
        tokenizer.encodeForModel(texts[i], { pad: 49407 }).ids,
        "text_embeds",
      );
      const row = r.embeddings.data.subarray(i * 6, (i + 1) * 6);
      const expected = l2Normalize(full);
      row.forEach((v, j) => {
        expect(v).toBeCloseTo(expected[j], 6);
      });
    }
    expect(r.tokenCounts).toEqual(texts.map((t) => tokenizer.encode(t).length));
  });

  it("truncates prompts over 75 tokens and reports it", async () => {
    const session = createFakeTextSession({ width: 8, projection: 6 });
    const embedder = createTextEmbedder({
      session,
      tokenizer,
      tensorFactory,
      output: "pooled",
      normalize: false,
    });
    const long = Array.from({ length: 90 }, () => "cat").join(" ");
    const r = await embedder.embed([long]);
    expect(session.calls[0].dims).toEqual([1, 77]);
    expect(r.truncated).toEqual([true]);
    expect(r.embeddings.data).toEqual(
      await fakeRun(session, tokenizer.encodeForModel(long, { pad: 49407 }).ids, "pooled"),
    );
  });
});
