/**
 * Token-id `input` of /v1/embeddings (OpenAI accepts `number[]` and `number[][]`): the ids
 * the model's tokenizer gives for a text, with or without its start/end tokens, embed to the
 * same vector as the text. Ids are checked here (integers in the vocabulary, at most the
 * 75 tokens of one CLIP window) and embedded by the core's text embedder (`embedIds`).
 */
import { CHUNK_TOKENS, EOT_ID, SOT_ID } from "../../conditioning/conditioner/token-chunks.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/** The id sequences of a token-id `input`, else undefined (a text or image input). */
export function tokenIdSequences(input: unknown): unknown[][] | undefined {
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((x) => typeof x === "number")) return [input];
  if (input.every((x) => Array.isArray(x))) return input as unknown[][];
  return undefined;
}

/**
 * Checks every id (422 `invalid_input` naming `input[i][j]`) and strips a leading start and
 * a trailing end token: the content tokens of each sequence.
 */
export function checkTokenIds(
  sequences: readonly unknown[][],
  options: { vocabSize: number; model: string; nested: boolean },
): number[][] {
  const { vocabSize, model } = options;
  return sequences.map((sequence, i) => {
    const label = options.nested ? `input[${i}]` : "input";
    if (sequence.length === 0) {
      throw new ClipEdgeError("invalid_input", `${label} is an empty token-id array`);
    }
    sequence.forEach((id, j) => {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new ClipEdgeError(
          "invalid_input",
          `${label}[${j}] = ${JSON.stringify(id)} is not a token id of model ${model} (an integer from 0 to ${vocabSize - 1})`,
          { details: { vocabSize } },
        );
      }
    });
    let ids = sequence as number[];
    if (ids[0] === SOT_ID) ids = ids.slice(1);
    if (ids.length > 0 && ids[ids.length - 1] === EOT_ID) ids = ids.slice(0, -1);
    if (ids.length > CHUNK_TOKENS) {
      throw new ClipEdgeError(
        "invalid_input",
        `${label} has ${ids.length} tokens besides its start/end tokens; the limit is ${CHUNK_TOKENS} (one ${CHUNK_TOKENS + 2}-token CLIP window)`,
        { details: { tokens: ids.length, limit: CHUNK_TOKENS } },
      );
    }
    return ids;
  });
}
