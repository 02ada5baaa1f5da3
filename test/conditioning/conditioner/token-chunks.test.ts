import { describe, expect, it } from "vitest";
import { promptFragments } from "../../../conditioning/conditioner/fragments.ts";
import {
  buildTokenChunks,
  EOT_ID,
  SOT_ID,
} from "../../../conditioning/conditioner/token-chunks.ts";
import { parseA1111Attention } from "../../../conditioning/prompt/a1111-attention.ts";
import { fixtureTokenizer } from "./helpers.ts";

const tok = fixtureTokenizer();
const words = (n: number, word = "cat") => Array.from({ length: n }, () => word).join(" ");

describe("token chunks", () => {
  it("truncate keeps 75 tokens, [SOT]+ids+[EOT]+pad, and reports what it dropped", () => {
    const text = `${words(74)} red blue green`;
    const ids = tok.encode(text);
    expect(ids).toHaveLength(77);
    const r = buildTokenChunks([{ text, weight: 1 }], tok, { mode: "truncate", padId: 0 });
    expect(r.chunks).toHaveLength(1);
    expect(r.chunks[0].ids).toEqual([SOT_ID, ...ids.slice(0, 75), EOT_ID]);
    expect(r.tokenCount).toBe(77);
    expect(r.truncated).toBe(true);
    expect(r.droppedTokens).toBe(2);
    expect(r.droppedText).toBe("blue green");
    // Same ids as the tokenizer's own model input (HF truncation=True, max_length=77).
    expect(r.chunks[0].ids).toEqual(tok.encodeForModel(text, { pad: 0 }).ids);
  });

  it("empty prompt gives [SOT, EOT, pad...]", () => {
    const r = buildTokenChunks([{ text: "", weight: 1 }], tok, { mode: "chunk", padId: 49407 });
    expect(r.chunks).toHaveLength(1);
    expect(r.chunks[0].ids).toEqual([SOT_ID, EOT_ID, ...new Array(75).fill(49407)]);
    expect(r.chunks[0].weights.every((w) => w === 1)).toBe(true);
  });

  it("chunk mode splits at 75 tokens: 160 tokens -> 3 chunks of 75, 75, 10", () => {
    const text = words(160);
    const r = buildTokenChunks([{ text, weight: 1 }], tok, { mode: "chunk", padId: 0 });
    expect(r.chunks.map((c) => c.tokenCount)).toEqual([75, 75, 10]);
    const ids = tok.encode(text);
    expect(r.chunks[1].ids).toEqual([SOT_ID, ...ids.slice(75, 150), EOT_ID]);
    expect(r.chunks[2].ids.slice(0, 12)).toEqual([SOT_ID, ...ids.slice(150), EOT_ID]);
    expect(r.chunks[2].ids.slice(12)).toEqual(new Array(65).fill(0));
    expect(r.truncated).toBe(false);
  });

  it("exactly 75 tokens is one chunk; 76 is two", () => {
    expect(
      buildTokenChunks([{ text: words(75), weight: 1 }], tok, { mode: "chunk", padId: 0 }).chunks,
    ).toHaveLength(1);
    expect(
      buildTokenChunks([{ text: words(76), weight: 1 }], tok, { mode: "chunk", padId: 0 }).chunks,
    ).toHaveLength(2);
  });

  it("A1111 BREAK starts a new chunk (parsed by the A1111 parser)", () => {
    const parsed = parseA1111Attention("a (red:1.5) cat BREAK a dog");
    const fragments = promptFragments(
      "a (red:1.5) cat BREAK a dog",
      "a1111",
      { a1111: parseA1111Attention },
      "chunk",
    );
    expect(Array.isArray(parsed)).toBe(true);
    const r = buildTokenChunks(fragments, tok, { mode: "chunk", padId: 49407 });
    expect(r.chunks).toHaveLength(2);
    const [a, red, cat] = [tok.encode("a ")[0], tok.encode("red")[0], tok.encode(" cat")[0]];
    expect(r.chunks[0].ids.slice(0, 5)).toEqual([SOT_ID, a, red, cat, EOT_ID]);
    expect(r.chunks[0].weights.slice(0, 5)).toEqual([1, 1, 1.5, 1, 1]);
    expect(r.chunks[1].ids.slice(0, 4)).toEqual([SOT_ID, ...tok.encode("a dog"), EOT_ID]);
    // In truncate mode BREAK is ignored: one chunk with every token.
    const t = buildTokenChunks(fragments, tok, { mode: "truncate", padId: 49407 });
    expect(t.chunks).toHaveLength(1);
    expect(t.chunks[0].tokenCount).toBe(5);
  });

  it("BREAK edge cases follow A1111: leading BREAK gives an empty chunk, trailing none", () => {
    const frag = (text: string) =>
      promptFragments(text, "a1111", { a1111: parseA1111Attention }, "chunk");
    expect(buildTokenChunks(frag("BREAK"), tok, { mode: "chunk", padId: 0 }).chunks).toHaveLength(
      1,
    );
    expect(
      buildTokenChunks(frag("cat BREAK"), tok, { mode: "chunk", padId: 0 }).chunks,
    ).toHaveLength(1);
    const lead = buildTokenChunks(frag("BREAK cat"), tok, { mode: "chunk", padId: 0 });
    expect(lead.chunks.map((c) => c.tokenCount)).toEqual([0, 1]);
    // (a BREAK b) is weight -1.1: text, not a break.
    expect(
      buildTokenChunks(frag("(a BREAK b)"), tok, { mode: "chunk", padId: 0 }).chunks,
    ).toHaveLength(1);
  });

  it("BREAK plus the 75-token boundary: 80 tokens BREAK 3 -> 75 | 5 | 3", () => {
    const text = `${words(80)} BREAK ${words(3, "dog")}`;
    const fr = promptFragments(text, null, {}, "chunk");
    const r = buildTokenChunks(fr, tok, { mode: "chunk", padId: 0 });
    expect(r.chunks.map((c) => c.tokenCount)).toEqual([75, 5, 3]);
  });

  it("A1111 comma back-tracking (opt-in) moves the words after the last comma to the next chunk", () => {
    const text = `${words(70)}, ${words(10, "dog")}`;
    const plain = buildTokenChunks([{ text, weight: 1 }], tok, { mode: "chunk", padId: 0 });
    expect(plain.chunks.map((c) => c.tokenCount)).toEqual([75, 6]);
    const back = buildTokenChunks([{ text, weight: 1.2 }], tok, {
      mode: "chunk",
      padId: 0,
      commaBacktrack: 20,
    });
    expect(back.chunks.map((c) => c.tokenCount)).toEqual([71, 10]);
    expect(back.chunks[0].ids[71]).toBe(267); // the comma ends chunk 1
    expect(back.chunks[1].ids.slice(1, 11)).toEqual(tok.encode(words(10, "dog")));
    expect(back.chunks[1].weights.slice(1, 11)).toEqual(new Array(10).fill(1.2));
    // Comma too far back (more than 3 tokens): plain split.
    const far = buildTokenChunks([{ text, weight: 1 }], tok, {
      mode: "chunk",
      padId: 0,
      commaBacktrack: 3,
    });
    expect(far.chunks.map((c) => c.tokenCount)).toEqual([75, 6]);
  });

  it("weighting none keeps the text verbatim in truncate mode (BREAK is a word)", () => {
    const fr = promptFragments("a BREAK b", null, {}, "truncate");
    expect(fr).toEqual([{ text: "a BREAK b", weight: 1 }]);
    const fr2 = promptFragments("caféBREAK x", null, {}, "chunk");
    expect(fr2).toEqual([{ text: "caféBREAK x", weight: 1 }]);
  });

  it("each fragment is tokenised separately and keeps its weight", () => {
    // "ab" as one word vs "a" + "b" as separate fragments: A1111 tokenises fragments apart.
    const r = buildTokenChunks(
      [
        { text: "astro", weight: 1.2 },
        { text: "naut", weight: 0.8 },
      ],
      tok,
      { mode: "truncate", padId: 0 },
    );
    const a = tok.encode("astro");
    const b = tok.encode("naut");
    expect(r.chunks[0].ids.slice(1, 1 + a.length + b.length)).toEqual([...a, ...b]);
    expect(r.chunks[0].weights.slice(1, 1 + a.length + b.length)).toEqual([
      ...a.map(() => 1.2),
      ...b.map(() => 0.8),
    ]);
    expect(r.chunks[0].fragments.slice(0, 2 + a.length + b.length)).toEqual([
      -1,
      ...a.map(() => 0),
      ...b.map(() => 1),
      -1,
    ]);
  });

  it("non-finite weights are rejected before encoding", () => {
    expect(() =>
      promptFragments(
        "(cat:inf)",
        "comfy",
        { comfy: () => [["cat", Number.POSITIVE_INFINITY]] },
        "truncate",
      ),
    ).toThrow(/not a finite number/);
    expect(() =>
      promptFragments("x", "comfy", { comfy: () => [["cat", "NaN"]] }, "truncate"),
    ).toThrow(/not a finite number/);
  });
});
