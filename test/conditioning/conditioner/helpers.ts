import type { z } from "zod";
import type { Conditioner } from "../../../conditioning/conditioner/conditioner.ts";
import {
  type ConditioningRequestSchema,
  parseConditioningRequest,
} from "../../../conditioning/conditioner/request-schema.ts";
import type { ConditioningResult } from "../../../conditioning/conditioner/types.ts";
import type { Tokenizer } from "../../../conditioning/tokenizer/index.ts";
import { fixtureTokenizer as freshTokenizer } from "../tokenizer/helpers.ts";

let cached: Tokenizer | undefined;

/** The real CLIP tokenizer over the fixture vocabulary (one instance for the pipeline tests). */
export function fixtureTokenizer(): Tokenizer {
  cached ??= freshTokenizer();
  return cached;
}

/** A request as a caller sends it: parsed by the one schema, then encoded. */
export async function encodeRequest(
  conditioner: Conditioner,
  request: z.input<typeof ConditioningRequestSchema>,
): Promise<ConditioningResult> {
  return conditioner.encode(parseConditioningRequest(request));
}
