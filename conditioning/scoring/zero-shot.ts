import { ClipEdgeError } from "../errors.ts";
import { l2Normalize } from "./normalize.ts";
import { type RankedCandidate, rankPrompts } from "./ranking.ts";

export const DEFAULT_TEMPLATES = ["a photo of a {}."];

/** Fills each template's `{}` with the label. */
export function zeroShotPrompts(
  label: string,
  templates: readonly string[] = DEFAULT_TEMPLATES,
): string[] {
  if (templates.length === 0)
    throw new ClipEdgeError("invalid_input", "zero-shot needs at least one template");
  return templates.map((t) => {
    if (!t.includes("{}"))
      throw new ClipEdgeError(
        "invalid_input",
        `template ${JSON.stringify(t)} has no {} placeholder`,
      );
    return t.split("{}").join(label);
  });
}

/** OpenAI's zero-shot class vector: mean of the normalised template embeddings, re-normalised. */
export function classEmbedding(templateEmbeds: readonly ArrayLike<number>[]): Float32Array {
  if (templateEmbeds.length === 0)
    throw new ClipEdgeError("invalid_input", "class embedding needs at least one text embedding");
  const dim = templateEmbeds[0].length;
  const acc = new Float64Array(dim);
  for (const e of templateEmbeds) {
    const n = l2Normalize(e);
    for (let i = 0; i < dim; i++) acc[i] += n[i];
  }
  for (let i = 0; i < dim; i++) acc[i] /= templateEmbeds.length;
  return l2Normalize(acc);
}

export interface ZeroShotResult extends RankedCandidate {
  label: string;
}

/**
 * Zero-shot classification: `embedTexts` embeds prompts (e.g. a text embedder's `embed`),
 * one class vector per label from its templates, then `softmax(exp(logit_scale) * cos)`.
 */
export async function zeroShotClassify(
  imageEmbeds: ArrayLike<number>,
  labels: readonly string[],
  embedTexts: (texts: string[]) => Promise<readonly ArrayLike<number>[]>,
  options: { templates?: readonly string[]; logitScale: number },
): Promise<ZeroShotResult[]> {
  if (labels.length === 0)
    throw new ClipEdgeError("invalid_input", "zero-shot needs at least one label");
  const templates = options.templates ?? DEFAULT_TEMPLATES;
  const prompts = labels.flatMap((l) => zeroShotPrompts(l, templates));
  const embeds = await embedTexts(prompts);
  const classes = labels.map((_, i) =>
    classEmbedding(embeds.slice(i * templates.length, (i + 1) * templates.length)),
  );
  return rankPrompts(imageEmbeds, classes, options.logitScale).map((r) => ({
    ...r,
    label: labels[r.index],
  }));
}
