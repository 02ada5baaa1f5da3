import {
  type ChunkOptions,
  finishChunk,
  type TokenChunk,
  type TokenizedPrompt,
  tokenizeText,
} from "./token-chunks.ts";
import type { TokenizerLike, WeightedFragment } from "./types.ts";

/** ComfyUI's `max_word_length`: words this long may be split across chunks. */
export const COMFY_MAX_WORD_LENGTH = 8;

/**
 * ComfyUI's chunking (`SDTokenizer.tokenize_with_weights`): each segment is split on spaces
 * (newlines count as spaces) and every word tokenised on its own; when a word does not fit in
 * the current 75-token chunk, a word shorter than 8 tokens moves whole to the next chunk
 * (the current one is padded), a longer word is split.
 */
export function buildComfyChunks(
  fragments: readonly WeightedFragment[],
  tokenizer: TokenizerLike,
  options: Omit<ChunkOptions, "mode">,
): TokenizedPrompt {
  const maxLength = options.maxLength ?? 77;
  const perChunk = maxLength - 2;
  const chunks: TokenChunk[] = [];
  let ids: number[] = [];
  let weights: number[] = [];
  let owners: number[] = [];
  const next = () => {
    chunks.push(finishChunk(ids, weights, owners, options.padId, maxLength));
    ids = [];
    weights = [];
    owners = [];
  };
  let tokenCount = 0;
  fragments.forEach((fragment, index) => {
    const words = fragment.text
      .replaceAll("\n", " ")
      .split(" ")
      .filter((w) => w !== "");
    for (const word of words) {
      let group = tokenizeText(tokenizer, word).ids;
      tokenCount += group.length;
      const isLarge = group.length >= COMFY_MAX_WORD_LENGTH;
      while (group.length > 0) {
        if (group.length + ids.length > perChunk) {
          if (isLarge) {
            const room = perChunk - ids.length;
            for (const id of group.slice(0, room)) {
              ids.push(id);
              weights.push(fragment.weight);
              owners.push(index);
            }
            group = group.slice(room);
          }
          next();
        } else {
          for (const id of group) {
            ids.push(id);
            weights.push(fragment.weight);
            owners.push(index);
          }
          group = [];
        }
      }
    }
  });
  next();
  return { chunks, tokenCount, truncated: false, droppedTokens: 0, droppedText: "" };
}
