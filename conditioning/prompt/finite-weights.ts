import { ClipEdgeError } from "../errors.ts";
import type { Conditioning } from "./parse-prompt.ts";
import type { WeightedFragment } from "./types.ts";

function check(fragments: WeightedFragment[], where: string): void {
  for (const f of fragments) {
    if (!Number.isFinite(f.weight)) {
      const text = f.text.length > 60 ? `${f.text.slice(0, 57)}...` : f.text;
      throw new ClipEdgeError(
        "invalid_input",
        `${where}fragment ${JSON.stringify(text)} has non-finite weight ${f.weight}; weights must be finite numbers to encode`,
        { details: { fragment: f.text, weight: String(f.weight) } },
      );
    }
  }
}

function checkNumber(value: number, what: string): void {
  if (!Number.isFinite(value)) {
    throw new ClipEdgeError(
      "invalid_input",
      `${what} is ${value}; weights must be finite numbers to encode`,
    );
  }
}

/**
 * Throws ClipEdgeError("invalid_input") naming the first fragment (or composition / blend weight)
 * whose weight is Infinity, -Infinity or NaN. The parsers keep such weights (`(word:inf)` in
 * ComfyUI, overflowing digits in A1111) exactly as the references do; call this before encoding.
 */
export function assertFiniteWeights(input: Conditioning[] | WeightedFragment[]): void {
  for (const item of input) {
    if (!("kind" in item)) {
      check([item], "prompt ");
      continue;
    }
    checkNumber(item.weight, "conditioning weight");
    if (item.kind === "prompt") check(item.fragments, "prompt ");
    else if (item.kind === "blend") {
      for (const [i, w] of item.blendWeights.entries()) checkNumber(w, `blend weight ${i}`);
      for (const [i, p] of item.prompts.entries()) check(p, `blend prompt ${i} `);
    } else {
      check(item.original, "swap original ");
      check(item.edited, "swap edited ");
    }
  }
}
