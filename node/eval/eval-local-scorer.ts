/**
 * Scores in this process: an image encoder and a text embedder passed in (the CLI hands the
 * bundle's vision and text graphs, as `clip-edge score` runs them). One image at a time and
 * one prompt at a time (cached), so an item's numbers do not depend on what else is in its
 * chunk: a resumed run gives the same values as an uninterrupted one.
 */
import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";
import { cosineSimilarity } from "../../conditioning/scoring/normalize.ts";
import type { EvalItem } from "./eval-inputs.ts";
import type { EvalOutcome, EvalScorer } from "./eval-runner.ts";

export interface LocalScorerOptions {
  encodeImage(file: string): Promise<Float32Array>;
  embedText(prompt: string): Promise<Float32Array>;
  release?(): Promise<void>;
  /** Most prompts kept in the cache (default 4096). */
  cacheSize?: number;
}

/** Errors that belong to one item (an unreadable or undecodable image): recorded, not fatal. */
const ITEM_ERRORS = new Set(["not_found", "invalid_input", "malformed", "unsupported_media_type"]);

export function createLocalScorer(options: LocalScorerOptions): EvalScorer {
  const cache = new Map<string, Float32Array>();
  const cacheSize = options.cacheSize ?? 4096;
  const textOf = async (prompt: string) => {
    let v = cache.get(prompt);
    if (!v) {
      v = await options.embedText(prompt);
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
      cache.set(prompt, v);
    }
    return v;
  };
  return {
    chunkSize: 1,
    async score(items: readonly EvalItem[]): Promise<EvalOutcome[]> {
      const out: EvalOutcome[] = [];
      for (const item of items) {
        let image: Float32Array;
        try {
          image = await options.encodeImage(item.file);
        } catch (error) {
          if (isClipEdgeError(error) && ITEM_ERRORS.has(error.code)) {
            out.push({ id: item.id, error: error.message });
            continue;
          }
          throw error;
        }
        const text = await textOf(item.prompt);
        if (text.length !== image.length) {
          throw new ClipEdgeError(
            "invalid_request",
            `${item.file}: image_embeds have ${image.length} dimensions, text_embeds ${text.length}`,
          );
        }
        out.push({ id: item.id, cosine: cosineSimilarity(image, text) });
      }
      return out;
    },
    release: options.release,
  };
}
