/**
 * Bounds on prompt weights, so that weighting never turns into Inf/NaN: every fragment,
 * conjunction and (normalised) blend weight must be finite and within `MAX_ABS_WEIGHT`,
 * checked when the prompt is parsed, before any encoding. As the last guard, weighted
 * hidden states are checked to be finite (`assertFiniteRows`). Both are `invalid_input`
 * (422) naming the prompt, the fragment and the weight, and saying what to change.
 */
import { ClipEdgeError } from "../errors.ts";
import type { PromptSyntax } from "./request-schema.ts";

/**
 * Largest |weight| a fragment, blend member or conjunction may carry. Prompt weights in
 * practical use are below ~10 (A1111, ComfyUI and Compel clamp nothing); 1000 keeps every
 * |z| * |w| far below float32's maximum (3.4e38) for any CLIP hidden state z.
 */
export const MAX_ABS_WEIGHT = 1000;

/** How a prompt of this syntax says a weight, for the "what to change" part of a message. */
const HOW_TO_WEIGHT: Record<PromptSyntax, string> = {
  a1111:
    "each ( ) multiplies by 1.1 and each [ ] divides by 1.1, so nest fewer of them or write the weight out, e.g. (cat:1.5)",
  comfy:
    "each ( ) multiplies by 1.1, so nest fewer of them or write the weight out, e.g. (cat:1.5)",
  compel: "each + multiplies by 1.1 and each - by 0.9, so use fewer or write (cat)1.5",
};

function describe(value: number): string {
  return Number.isFinite(value) && Math.abs(value) >= 1e6 ? value.toExponential(3) : String(value);
}

function rejectWeight(label: string, what: string, weight: number, hint: string): never {
  const problem = Number.isFinite(weight)
    ? `beyond the limit of ±${MAX_ABS_WEIGHT}`
    : "which is not a finite number";
  throw new ClipEdgeError(
    "invalid_input",
    `prompt ${label}: ${what} has weight ${describe(weight)}, ${problem}; ${hint}`,
    { details: { what, weight: describe(weight), maxAbsWeight: MAX_ABS_WEIGHT } },
  );
}

const inBounds = (w: number) => Number.isFinite(w) && Math.abs(w) <= MAX_ABS_WEIGHT;

/** A fragment's weight (A1111/ComfyUI attention, Compel +/-/numbers). */
export function checkFragmentWeight(
  label: string,
  syntax: PromptSyntax,
  text: string,
  weight: number,
): void {
  if (!inBounds(weight)) {
    rejectWeight(
      label,
      `fragment ${JSON.stringify(text.slice(0, 40))}`,
      weight,
      HOW_TO_WEIGHT[syntax],
    );
  }
}

/** A Compel `.and()` conjunction weight. */
export function checkConjunctionWeight(label: string, index: number, weight: number): void {
  if (!inBounds(weight)) {
    rejectWeight(
      label,
      `.and() part ${index + 1}`,
      weight,
      `give .and() weights within ±${MAX_ABS_WEIGHT}`,
    );
  }
}

/**
 * Compel `.blend()` weights: each given weight, and with `normalize` each weight divided
 * by their sum (Compel divides without a check: weights summing to 0 give NaN/Inf).
 */
export function checkBlendWeights(
  label: string,
  weights: readonly number[],
  normalize: boolean,
): void {
  const list = `.blend(${weights.map(describe).join(", ")})`;
  weights.forEach((w, i) => {
    if (!inBounds(w)) {
      rejectWeight(
        label,
        `${list} member ${i + 1}`,
        w,
        `give blend weights within ±${MAX_ABS_WEIGHT}`,
      );
    }
  });
  if (!normalize) return;
  const total = weights.reduce((a, b) => a + b, 0);
  weights.forEach((w, i) => {
    const normalised = w / total;
    if (!inBounds(normalised)) {
      rejectWeight(
        label,
        `${list} member ${i + 1} (normalised: ${describe(w)} / sum ${describe(total)})`,
        normalised,
        total === 0
          ? "the blend weights sum to 0 and are divided by their sum: give weights with a non-zero sum, e.g. .blend(0.5, 0.5)"
          : "the blend weights are divided by their sum, which is too close to 0: give weights with a larger sum",
      );
    }
  });
}

/** Last guard: a weighted [seq, W] block must be finite (e.g. A1111's mean rescaling). */
export function assertFiniteRows(
  data: Float32Array,
  width: number,
  prompt: string,
  weighting: string,
): void {
  for (let i = 0; i < data.length; i++) {
    if (Number.isFinite(data[i])) continue;
    const position = Math.floor(i / width);
    throw new ClipEdgeError(
      "invalid_input",
      `prompt ${JSON.stringify(prompt.slice(0, 80))}: ${weighting} weighting gives a non-finite value (${data[i]}) at token position ${position}; lower the weights of that chunk (or, for A1111, avoid weights whose weighted mean is 0, such as a negative weight on most of the chunk)`,
      { details: { position, weighting } },
    );
  }
}
