import { readFileSync } from "node:fs";
import { parseMerges } from "../../../conditioning/tokenizer/files.ts";
import { createTokenizer, type Tokenizer } from "../../../conditioning/tokenizer/index.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

export interface TokenizerCase {
  text: string;
  ids: number[];
  source: string;
}

export function readCases(): TokenizerCase[] {
  return readFileSync(fixturePath("tokenizer", "cases.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as TokenizerCase);
}

export function vocabFiles() {
  return {
    vocab: readFileSync(fixturePath("vocab", "vocab.json")),
    merges: readFileSync(fixturePath("vocab", "merges.txt")),
  };
}

export function fixtureTokenizer(): Tokenizer {
  return createTokenizer(vocabFiles());
}

/** A tokenizer.json in the format of `openai/clip-vit-*` (HF CLIPTokenizerFast), built from the fixture vocab. */
export function buildTokenizerJson(): Record<string, unknown> {
  const vocab = JSON.parse(readFileSync(fixturePath("vocab", "vocab.json"), "utf8"));
  const merges = parseMerges(readFileSync(fixturePath("vocab", "merges.txt"), "utf8")).map(
    ([a, b]) => `${a} ${b}`,
  );
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(49406, "<|startoftext|>"), special(49407, "<|endoftext|>")],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFC" },
        { type: "Replace", pattern: { Regex: "\\s+" }, content: " " },
        { type: "Lowercase" },
      ],
    },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        {
          type: "Split",
          pattern: {
            Regex:
              "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          },
          behavior: "Removed",
          invert: true,
        },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "RobertaProcessing",
      sep: ["<|endoftext|>", 49407],
      cls: ["<|startoftext|>", 49406],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<|endoftext|>",
      continuing_subword_prefix: "",
      end_of_word_suffix: "</w>",
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
