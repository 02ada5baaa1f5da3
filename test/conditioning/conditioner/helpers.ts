import { readFileSync } from "node:fs";
import { createTokenizer, type Tokenizer } from "../../../conditioning/tokenizer/index.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

let cached: Tokenizer | undefined;

/** The real CLIP tokenizer over the fixture vocabulary. */
export function fixtureTokenizer(): Tokenizer {
  cached ??= createTokenizer({
    vocab: readFileSync(fixturePath("vocab", "vocab.json")),
    merges: readFileSync(fixturePath("vocab", "merges.txt")),
  });
  return cached;
}
