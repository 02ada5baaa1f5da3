import { ClipEdgeError } from "../errors.ts";
import { a1111Composition } from "./composition.ts";
import type { NormalisedRequest } from "./request.ts";
import type { ConditioningEntryReport } from "./types.ts";

/** A composed conditioning before encoding: its report and the distinct text it encodes. */
export interface ComposedEntry extends ConditioningEntryReport {
  /** Index into `ComposedEntries.texts`. */
  textIndex: number;
}

export interface ComposedEntries {
  /** Distinct texts to encode, in first-use order. */
  texts: string[];
  positive: ComposedEntry[];
  negative: ComposedEntry[];
}

/**
 * A1111 composition of a request: prompts split on AND and scheduled
 * (`get_multicond_learned_conditioning`), negative prompts scheduled only
 * (`get_learned_conditioning`); identical texts are encoded once.
 */
export function composeEntries(
  req: NormalisedRequest,
  withNegatives: boolean,
  maxConditionings = 256,
): ComposedEntries {
  const texts: string[] = [];
  const index = new Map<string, number>();
  const textIndex = (text: string) => {
    let t = index.get(text);
    if (t === undefined) {
      t = texts.push(text) - 1;
      index.set(text, t);
    }
    return t;
  };
  const compose = (prompts: string[], splitAnd: boolean) =>
    prompts.flatMap((prompt, i) =>
      a1111Composition(prompt, req.steps, { splitAnd }).map(
        (entry): ComposedEntry => ({
          prompt_index: i,
          part: entry.part,
          text: entry.text,
          weight: entry.weight,
          steps: entry.steps,
          textIndex: textIndex(entry.text),
        }),
      ),
    );
  const positive = compose(req.prompts, true);
  const negative = withNegatives
    ? compose(
        req.negatives.map((n) => n ?? ""),
        false,
      )
    : [];
  const count = positive.length + negative.length;
  if (count > maxConditionings) {
    throw new ClipEdgeError(
      "too_large",
      `composition gives ${count} conditionings (AND parts x schedule ranges), more than the limit of ${maxConditionings}`,
      { details: { conditionings: count, maxConditionings } },
    );
  }
  return { texts, positive, negative };
}
