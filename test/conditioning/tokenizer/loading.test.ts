import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isClipEdgeError } from "../../../conditioning/errors.ts";
import {
  createTokenizer,
  loadTokenizer,
  loadTokenizerFiles,
  parseMerges,
} from "../../../conditioning/tokenizer/index.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { buildTokenizerJson, fixtureTokenizer, readCases, vocabFiles } from "./helpers.ts";

const sample = readCases().filter((_, i) => i % 7 === 0);
const reference = fixtureTokenizer();

function folder(files: Record<string, string | Uint8Array>) {
  const reads: string[] = [];
  const readFile = async (name: string) => {
    reads.push(name);
    return files[name] ?? null;
  };
  return { readFile, reads };
}

describe("tokenizer file loading", () => {
  it("reads merges.txt as transformers does (header skipped, 48894 merges)", () => {
    const merges = parseMerges(readFileSync(fixturePath("vocab", "merges.txt"), "utf8"));
    expect(merges).toHaveLength(48894);
    expect(merges[0]).toEqual(["i", "n"]);
    expect(parseMerges("#version: 0.2\r\na b\r\n\r\nab c\n")).toEqual([
      ["a", "b"],
      ["ab", "c"],
    ]);
  });

  it("a tokenizer.json (HF clip-vit format) gives the same ids as vocab.json + merges.txt", () => {
    const json = buildTokenizerJson();
    const fromJson = createTokenizer({ tokenizerJson: JSON.stringify(json) });
    const fromObject = createTokenizer({ tokenizerJson: json });
    for (const c of sample) {
      expect(fromJson.encode(c.text)).toEqual(c.ids);
      expect(fromObject.encode(c.text, { mode: "hf" })).toEqual(
        reference.encode(c.text, { mode: "hf" }),
      );
    }
    // merges given as pairs (newer tokenizers.json) load too
    const pairs = {
      ...json,
      model: {
        ...(json.model as object),
        merges: parseMerges(readFileSync(fixturePath("vocab", "merges.txt"))),
      },
    };
    expect(createTokenizer({ tokenizerJson: pairs }).encode("a photo of an astronaut")).toEqual(
      reference.encode("a photo of an astronaut"),
    );
  });

  it("a folder with only vocab.json + merges.txt works with CLIP defaults", async () => {
    const { vocab, merges } = vocabFiles();
    const { readFile, reads } = folder({ "vocab.json": vocab, "merges.txt": merges });
    const tokenizer = await loadTokenizer(readFile);
    expect(reads.sort()).toEqual(
      [
        "merges.txt",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.json",
      ].sort(),
    );
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId, tokenizer.maxLength]).toEqual([
      49406, 49407, 49407, 77,
    ]);
    for (const c of sample) expect(tokenizer.encode(c.text)).toEqual(c.ids);
  });

  it("a folder with only tokenizer.json works", async () => {
    const { readFile } = folder({ "tokenizer.json": JSON.stringify(buildTokenizerJson()) });
    const tokenizer = await loadTokenizer(readFile);
    for (const c of sample.slice(0, 50)) expect(tokenizer.encode(c.text)).toEqual(c.ids);
  });

  it("reads the pad token and max length from tokenizer_config.json / special_tokens_map.json", async () => {
    for (const [model, pad] of [
      ["tiny-openai", 49407],
      ["tiny-gelu", 0],
    ] as const) {
      const dir = fixturePath("models", model);
      const read = async (name: string) => {
        try {
          return readFileSync(`${dir}/${name}`);
        } catch {
          return null;
        }
      };
      const loaded = await loadTokenizerFiles(read);
      expect(loaded.tokenizerConfig).toBeDefined();
      const tokenizer = await loadTokenizer(read);
      expect(tokenizer.padId).toBe(pad);
      expect(tokenizer.maxLength).toBe(77);
    }
    const custom = createTokenizer(vocabFiles(), {
      tokenizerConfig: { model_max_length: 32, pad_token: { content: "!" } },
    });
    expect([custom.padId, custom.maxLength]).toEqual([0, 32]);
  });

  it("rejects missing or malformed files with a ClipEdgeError naming the file", async () => {
    const expectError = (fn: () => unknown, code: string, text: RegExp) => {
      try {
        fn();
      } catch (error) {
        expect(isClipEdgeError(error)).toBe(true);
        expect((error as { code: string }).code).toBe(code);
        expect((error as Error).message).toMatch(text);
        return;
      }
      throw new Error("expected an error");
    };
    const { merges } = vocabFiles();
    expectError(() => createTokenizer({ vocab: "{not json", merges }), "malformed", /vocab\.json/);
    expectError(() => createTokenizer({ vocab: "[1,2]", merges }), "malformed", /vocab\.json/);
    expectError(
      () => createTokenizer({ vocab: '{"a": 0}', merges }),
      "invalid_input",
      /byte symbol/,
    );
    expectError(
      () => createTokenizer({ vocab: vocabFiles().vocab, merges: "#version: 0.2\na b c\n" }),
      "malformed",
      /merges\.txt line 2/,
    );
    expectError(
      () => createTokenizer({ tokenizerJson: { model: { type: "WordPiece" } } }),
      "unsupported",
      /WordPiece/,
    );
    await expect(loadTokenizer(folder({ "vocab.json": "{}" }).readFile)).rejects.toThrow(
      /merges\.txt or tokenizer\.json/,
    );
  });
});
