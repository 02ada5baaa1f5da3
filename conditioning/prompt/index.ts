/** Prompt-weighting parsers: A1111, ComfyUI and compel syntaxes, golden-exact. */
export { type AttentionList, parseA1111Attention } from "./a1111-attention.ts";
export { type Multicond, type MulticondPart, parseA1111Multicond } from "./a1111-multicond.ts";
export { parseA1111Schedule, type ScheduledText } from "./a1111-schedule.ts";
export {
  comfyEscape,
  comfyUnescape,
  parseComfyWeights,
  type SegmentList,
} from "./comfy-weights.ts";
export { parseCompel } from "./compel.ts";
export type { CompelPairs, CompelPart, CompelResult } from "./compel-flatten.ts";
export { assertFiniteWeights } from "./finite-weights.ts";
export {
  type A1111Part,
  type A1111ScheduleEntry,
  type Conditioning,
  flattenPrompt,
  type ParsedPrompt,
  type ParsePromptOptions,
  parsePrompt,
  toFragments,
} from "./parse-prompt.ts";
export type { PromptSyntax, WeightedFragment } from "./types.ts";
