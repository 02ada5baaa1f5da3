import { readFileSync } from "node:fs";
import { parseMerges } from "../../../conditioning/tokenizer/files.ts";
import { createTokenizer, type Tokenizer } from "../../../conditioning/tokenizer/index.ts";
import { clipTokenizerJson } from "../../../conditioning/tokenizer/tokenizer-json.ts";
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
  return clipTokenizerJson(
    vocab,
    parseMerges(readFileSync(fixturePath("vocab", "merges.txt"), "utf8")),
  );
}
