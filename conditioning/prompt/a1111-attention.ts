import { splitBreak } from "./a1111-break.ts";
import { PY_WS_CLASS, pyFloat } from "./py-text.ts";

/** `[text, weight]` pairs exactly as A1111's `parse_prompt_attention` returns them. */
export type AttentionList = [string, number][];

const ATTENTION_RE = new RegExp(
  String.raw`\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:[${PY_WS_CLASS}]*([+-]?[.\p{Nd}]+)[${PY_WS_CLASS}]*\)|\)|\]|[^\\()\[\]:]+|:`,
  "gu",
);

const ROUND = 1.1;
const SQUARE = 1 / 1.1;

/** Thrown (as a value, not an exception) when the reference raises: `float()` of a bad weight. */
export class AttentionWeightError {
  constructor(readonly message: string) {}
}

/**
 * A1111 `parse_prompt_attention`: `(x)` x1.1, `[x]` /1.1, `(x:w)` xw, applied when the bracket
 * closes (unclosed ones at the end, round then square), multiplied in the reference's order so
 * weights match as IEEE doubles; escapes; `BREAK` as `["BREAK", -1]`; adjacent equal weights merged.
 * Iterative: nesting depth costs no stack. Returns an error object where Python raises.
 */
export function parseA1111Attention(text: string): AttentionList | { error: string } {
  const texts: string[] = [];
  const weights: number[] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyRange = (start: number, multiplier: number) => {
    for (let p = start; p < weights.length; p += 1) weights[p] *= multiplier;
  };
  for (const match of text.matchAll(ATTENTION_RE)) {
    const token = match[0];
    const weight = match[1];
    if (token.startsWith("\\")) {
      texts.push(token.slice(1));
      weights.push(1.0);
    } else if (token === "(") {
      round.push(texts.length);
    } else if (token === "[") {
      square.push(texts.length);
    } else if (weight !== undefined && round.length > 0) {
      const value = pyFloat(weight);
      if (value === undefined) {
        return { error: `ValueError: could not convert string to float: '${weight}'` };
      }
      multiplyRange(round.pop()!, value);
    } else if (token === ")" && round.length > 0) {
      multiplyRange(round.pop()!, ROUND);
    } else if (token === "]" && square.length > 0) {
      multiplyRange(square.pop()!, SQUARE);
    } else {
      splitBreak(token).forEach((part, i) => {
        if (i > 0) {
          texts.push("BREAK");
          weights.push(-1);
        }
        texts.push(part);
        weights.push(1.0);
      });
    }
  }
  for (const pos of round) multiplyRange(pos, ROUND);
  for (const pos of square) multiplyRange(pos, SQUARE);
  if (texts.length === 0) return [["", 1.0]];
  const merged: AttentionList = [[texts[0], weights[0]]];
  for (let i = 1; i < texts.length; i += 1) {
    const last = merged[merged.length - 1];
    if (last[1] === weights[i]) last[0] += texts[i];
    else merged.push([texts[i], weights[i]]);
  }
  return merged;
}
