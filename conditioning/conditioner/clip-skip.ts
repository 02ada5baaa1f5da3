import { ClipEdgeError } from "../errors.ts";
import type { HiddenStateRule } from "./presets.ts";

/**
 * The two clip-skip spellings in diffusers numbering (k >= 0, 0 = none); the request
 * schema checked their ranges and that they agree.
 * diffusers `clip_skip=k` == A1111 "Clip skip" k+1.
 */
export function resolveClipSkip(
  clipSkip: number | undefined,
  a1111ClipSkip: number | undefined,
): number {
  if (clipSkip !== undefined) return clipSkip;
  if (a1111ClipSkip !== undefined) return a1111ClipSkip - 1;
  return 0;
}

/**
 * Graph output that holds the hidden states a rule needs at diffusers clip skip k.
 * `exported` = K, the number of pre-final-LN hidden states the bundle exported.
 */
export function hiddenStateOutput(
  rule: HiddenStateRule,
  clipSkip: number,
  exported: number | undefined,
  model: string,
): string {
  if (rule === "final-ln" && clipSkip === 0) return "last_hidden_state";
  const index = rule === "final-ln" ? clipSkip + 1 : clipSkip + 2;
  if (exported !== undefined && index > exported) {
    const maxSkip = rule === "final-ln" ? exported - 1 : exported - 2;
    throw new ClipEdgeError(
      "invalid_request",
      `clip_skip ${clipSkip} needs hidden_states[-${index}] but model ${model} exported only K=${exported} hidden states (max clip_skip ${Math.max(maxSkip, 0)}); re-prepare it with more hidden states`,
      { details: { clipSkip, exportedHiddenStates: exported } },
    );
  }
  return rule === "final-ln" ? `hidden_states_ln_${index}` : `hidden_states_${index}`;
}
