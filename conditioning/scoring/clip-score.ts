import { ClipEdgeError } from "../errors.ts";
import { cosineSimilarity } from "./normalize.ts";

/** CLIP score of one image/text pair: `100 * max(cos, 0)`. */
export function clipScore(imageEmbeds: ArrayLike<number>, textEmbeds: ArrayLike<number>): number {
  return 100 * Math.max(cosineSimilarity(imageEmbeds, textEmbeds), 0);
}

/**
 * torchmetrics `CLIPScore` over pairs: `max(mean(100 * cos), 0)`. The clamp comes after
 * the mean, so one negative pair lowers the aggregate (unlike per-pair `clipScore`).
 */
export function clipScoreAggregate(
  pairs: readonly { imageEmbeds: ArrayLike<number>; textEmbeds: ArrayLike<number> }[],
): number {
  return clipScoreAggregateOfCosines(
    pairs.map((p) => cosineSimilarity(p.imageEmbeds, p.textEmbeds)),
  );
}

/** torchmetrics `CLIPScore` from the pairs' cosines: `max(mean(100 * cos), 0)`. */
export function clipScoreAggregateOfCosines(cosines: readonly number[]): number {
  if (cosines.length === 0)
    throw new ClipEdgeError("invalid_input", "CLIP score needs at least one image/text pair");
  let sum = 0;
  for (const c of cosines) sum += 100 * c;
  return Math.max(sum / cosines.length, 0);
}
