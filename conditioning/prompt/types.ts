/** Output types shared by the prompt-weighting parsers and consumed by the encoder stage. */

export type PromptSyntax = "a1111" | "comfy" | "compel" | "none";

/** A run of prompt text and the weight its tokens get. */
export interface WeightedFragment {
  text: string;
  weight: number;
  /**
   * A1111 chunk break: the parser's `["BREAK", -1]` entry. Exactly the entries with text "BREAK"
   * and weight -1 (A1111's encoder test); `(a BREAK b)` gives weight -1.1, which is not a break.
   */
  isBreak?: true;
}

/** One conditioning: weighted fragments, encoded together. */
export interface WeightedPrompt {
  fragments: WeightedFragment[];
}

/** Error result for a text the reference parser rejects (same message as the reference). */
export interface ParseFailure {
  error: string;
}
