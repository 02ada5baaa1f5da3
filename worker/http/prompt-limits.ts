/** Limits on prompt count and length (413), applied before any model work. */
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { WorkerLimits } from "../config/limits.ts";

export function checkPrompts(
  prompts: readonly string[],
  limits: WorkerLimits,
  field: string,
): void {
  if (prompts.length > limits.maxPrompts) {
    throw new ClipEdgeError(
      "too_large",
      `${field} has ${prompts.length} prompts, the limit is ${limits.maxPrompts} (MAX_PROMPTS)`,
    );
  }
  prompts.forEach((prompt, i) => {
    if (prompt.length > limits.maxPromptChars) {
      throw new ClipEdgeError(
        "too_large",
        `${field}[${i}] has ${prompt.length} characters, the limit is ${limits.maxPromptChars} (MAX_PROMPT_CHARS)`,
      );
    }
  });
}
