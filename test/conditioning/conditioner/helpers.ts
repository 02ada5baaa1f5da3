import { readFileSync } from "node:fs";
import type { z } from "zod";
import type { Conditioner } from "../../../conditioning/conditioner/conditioner.ts";
import {
  type ConditioningRequestSchema,
  parseConditioningRequest,
} from "../../../conditioning/conditioner/request-schema.ts";
import type { ConditioningResult } from "../../../conditioning/conditioner/types.ts";
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

/** A request as a caller sends it: parsed by the one schema, then encoded. */
export async function encodeRequest(
  conditioner: Conditioner,
  request: z.input<typeof ConditioningRequestSchema>,
): Promise<ConditioningResult> {
  return conditioner.encode(parseConditioningRequest(request));
}
