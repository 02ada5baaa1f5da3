import { parseA1111Attention } from "../prompt/a1111-attention.ts";
import { parseComfyWeights } from "../prompt/comfy-weights.ts";
import { parseCompel } from "../prompt/compel.ts";
import type { PromptParsers } from "./fragments.ts";

/** The prompt module's parsers (conditioning/prompt/), used when a conditioner is given none. */
export function defaultPromptParsers(): PromptParsers {
  return {
    a1111: (text) => parseA1111Attention(text),
    comfy: (text) => parseComfyWeights(text),
    compel: (text) => parseCompel(text),
  };
}
