import { ClipEdgeError } from "../errors.ts";
import { cosineSimilarity } from "./normalize.ts";

export interface RankedCandidate {
  index: number;
  cosine: number;
  /** exp(logit_scale) * cos */
  logit: number;
  probability: number;
}

/** Numerically stable softmax. */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/**
 * Ranks candidate texts for one image: `softmax(exp(logit_scale) * cos)`; results in
 * input order (`index`), sort by `probability` for a ranking. `logitScale` is the
 * model's `logit_scale` parameter (ln 100 for CLIP), not its exponential.
 */
export function rankPrompts(
  imageEmbeds: ArrayLike<number>,
  textEmbeds: readonly ArrayLike<number>[],
  logitScale: number,
): RankedCandidate[] {
  if (textEmbeds.length === 0)
    throw new ClipEdgeError("invalid_input", "ranking needs at least one candidate text");
  if (!Number.isFinite(logitScale))
    throw new ClipEdgeError("invalid_input", `logit_scale ${logitScale} is not finite`);
  const scale = Math.exp(logitScale);
  const cosines = textEmbeds.map((t) => cosineSimilarity(imageEmbeds, t));
  const logits = cosines.map((c) => scale * c);
  const probs = softmax(logits);
  return cosines.map((cosine, index) => ({
    index,
    cosine,
    logit: logits[index],
    probability: probs[index],
  }));
}
