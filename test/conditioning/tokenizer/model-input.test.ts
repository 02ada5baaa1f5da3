import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createTokenizer } from "../../../conditioning/tokenizer/index.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { fixtureTokenizer, vocabFiles } from "./helpers.ts";

interface GoldenPrompt {
  text: string;
  num_tokens: number;
  truncated: boolean;
  eot_index: number;
  input_ids_pad0?: number[];
  input_ids_pad49407?: number[];
}

function golden(model: string): GoldenPrompt[] {
  return JSON.parse(readFileSync(fixturePath("models", model, "golden.json"), "utf8")).prompts;
}

const tokenizer = fixtureTokenizer();

describe("encodeForModel vs the model goldens", () => {
  for (const model of ["tiny-openai", "tiny-gelu"]) {
    it(`${model}: input ids, EOT index and truncation for every golden prompt`, () => {
      const prompts = golden(model);
      expect(prompts.length).toBeGreaterThan(10);
      for (const p of prompts) {
        for (const [style, pad] of [
          ["input_ids_pad0", 0],
          ["input_ids_pad49407", 49407],
        ] as const) {
          const expected = p[style];
          if (!expected) continue;
          const input = tokenizer.encodeForModel(p.text, { pad });
          expect(input.ids, `${style} ${JSON.stringify(p.text)}`).toEqual(expected);
          expect(input.eotIndex).toBe(p.eot_index);
          expect(input.droppedTokens).toBe(Math.max(0, p.num_tokens - 75));
          expect(input.droppedTokens > 0).toBe(p.truncated);
        }
      }
    });
  }

  it("reports the dropped text, honours pad none / maxLength / truncation off", () => {
    const words = Array.from({ length: 80 }, (_, i) => `w${i}`).join(" ");
    // each "wN" is "w" + digits: digits are one token each, so count with encode.
    const ids = tokenizer.encode(words);
    const input = tokenizer.encodeForModel(words);
    expect(input.ids).toHaveLength(77);
    expect(input.ids[76]).toBe(49407);
    expect(input.droppedTokens).toBe(ids.length - 75);
    expect(words.endsWith(input.droppedText)).toBe(true);
    expect(tokenizer.encode(input.droppedText)).toEqual(ids.slice(75));

    const short = tokenizer.encodeForModel("a photo of a cat", { pad: "none" });
    expect(short).toEqual({
      ids: [49406, 320, 1125, 539, 320, 2368, 49407],
      eotIndex: 6,
      droppedTokens: 0,
      droppedText: "",
    });
    expect(tokenizer.encodeForModel("a photo of a cat", { maxLength: 4, pad: 0 }).ids).toEqual([
      49406, 320, 1125, 49407,
    ]);
    expect(() => tokenizer.encodeForModel(words, { truncation: false })).toThrow(/more than 75/);
    expect(() => tokenizer.encodeForModel("x", { pad: 49408 })).toThrow(/pad/);
    expect(tokenizer.encodeForModel("").ids.slice(0, 3)).toEqual([49406, 49407, 49407]);
    const gelu = createTokenizer(vocabFiles(), { specialTokensMap: { pad_token: "!" } });
    expect(gelu.encodeForModel("").ids.slice(0, 3)).toEqual([49406, 49407, 0]);
  });
});

describe("decode and offsets", () => {
  it("decode is OpenAI's (bytes -> UTF-8, </w> -> space)", () => {
    expect(tokenizer.decode(tokenizer.encode("A photo of a café 🐶!"))).toBe(
      "a photo of a café 🐶! ",
    );
    expect(tokenizer.decode([49406, 320, 49407])).toBe("<|startoftext|>a <|endoftext|>");
    expect(() => tokenizer.decode([49408])).toThrow(/49408/);
  });

  it("offsets point at each token's text in the original string", () => {
    const text = "  A Photo of the Eiffel-Tower, 2024!";
    const tokens = tokenizer.encodeWithOffsets(text);
    expect(tokens.map((t) => t.id)).toEqual(tokenizer.encode(text));
    const pieces = tokens.map((t) => text.slice(t.start, t.end));
    expect(pieces.join("")).toBe("APhotooftheEiffel-Tower,2024!");
    for (const t of tokens) {
      const decoded = tokenizer.decode([t.id]).trimEnd();
      expect(text.slice(t.start, t.end).toLowerCase()).toBe(decoded);
    }
  });

  it("offsets cover the source of text that ftfy / html.unescape rewrote", () => {
    const text = "Tom &amp; Jerry don\u2019t caf\u00c3\u00a9";
    const tokens = tokenizer.encodeWithOffsets(text);
    expect(tokens.map((t) => t.id)).toEqual(tokenizer.encode(text));
    const pieces = tokens.map((t) => text.slice(t.start, t.end));
    expect(pieces[0]).toBe("Tom");
    expect(pieces[1]).toBe("&amp;");
    expect(pieces[2]).toBe("Jerry");
    expect(pieces.at(-1)).toMatch(/^caf/);
    for (const t of tokens) expect(t.end).toBeGreaterThanOrEqual(t.start);
  });

  it.each([
    ["\r\ra\n", ["a"]],
    ["&not&", ["&not", "&not", "&"]],
    ["&#x27;a's", ["&#x27;", "a", "'s"]],
    ["\ufb03x", ["\ufb03", "\ufb03x"]],
  ])("offsets of %j map fixed text to its source", (text, pieces) => {
    const tokens = tokenizer.encodeWithOffsets(text);
    expect(tokens.map((t) => t.id)).toEqual(tokenizer.encode(text));
    expect(tokens.map((t) => text.slice(t.start, t.end))).toEqual(pieces);
  });

  it("tokens that split a character (byte-level BPE, lowercase expansion) all cover it", () => {
    const text = "\u65e5\u672c\u8a9e \u0130stanbul";
    const tokens = tokenizer.encodeWithOffsets(text);
    expect(tokens.map((t) => t.id)).toEqual(tokenizer.encode(text));
    for (const t of tokens) expect(t.end).toBeGreaterThan(t.start);
    const pieces = new Set(tokens.map((t) => text.slice(t.start, t.end)));
    expect(pieces).toEqual(new Set(["\u65e5", "\u672c", "\u8a9e", "\u0130", "stanbul"]));
  });

  it("splits a multi-token word's span by bytes, in order", () => {
    const text = "supercalifragilisticexpialidocious";
    const tokens = tokenizer.encodeWithOffsets(text);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.map((t) => text.slice(t.start, t.end)).join("")).toBe(text);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i].start).toBe(tokens[i - 1].end);
  });
});
