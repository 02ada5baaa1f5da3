import { expect } from "vitest";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/** "ok" when `promise` resolves, else the ClipEdgeError code it rejects with (anything else fails). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(ClipEdgeError);
    return (error as ClipEdgeError).code;
  }
}
