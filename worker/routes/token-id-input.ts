/**
 * Token-id `input` of /v1/embeddings (OpenAI accepts `number[]` and `number[][]`): the ids
 * the model's tokenizer gives for a text, with or without its start/end tokens, embed to the
 * same vector as the text. Ids are checked here (integers in the vocabulary, at most the
 * 75 tokens of one CLIP window) and run through the text graph like a tokenized text.
 */
import { runSequences } from "../../conditioning/conditioner/encoder-runner.ts";
import type { TextEmbeddings } from "../../conditioning/conditioner/text-embedder.ts";
import { CHUNK_TOKENS, EOT_ID, SOT_ID } from "../../conditioning/conditioner/token-chunks.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { l2NormalizeRows } from "../../conditioning/scoring/normalize.ts";
import type { LoadedModel } from "../models/model-registry.ts";

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

/** L2-normalised text_embeds of `[SOT, ...ids, EOT]` per sequence, as the text embedder runs them. */
export async function embedTokenIds(
  model: LoadedModel,
  sequences: readonly number[][],
  maxBatch: number,
): Promise<TextEmbeddings> {
  const session = await model.textSession();
  const padId = model.manifest.tokenizer.padId ?? EOT_ID;
  const seqs = sequences.map((ids) => [SOT_ID, ...ids, EOT_ID]);
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length);
  const rows: Float32Array[] = new Array(seqs.length);
  for (let start = 0; start < order.length; start += maxBatch) {
    const group = order.slice(start, start + maxBatch);
    const len = Math.max(...group.map((i) => seqs[i].length));
    const batch = group.map((i) => ({
      ids: [...seqs[i], ...new Array(len - seqs[i].length).fill(padId)],
    }));
    const out = await runSequences(batch, ["text_embeds"], {
      session,
      tensorFactory: model.tensor,
      model: model.id,
      maxBatch,
    });
    group.forEach((i, b) => {
      rows[i] = out.text_embeds[b];
    });
  }
  const dim = rows[0]?.length ?? 0;
  const flat = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    flat.set(r, i * dim);
  });
  return {
    embeddings: { shape: [rows.length, dim], data: dim ? l2NormalizeRows(flat, dim) : flat },
    tokenCounts: sequences.map((ids) => ids.length),
    truncated: sequences.map(() => false),
  };
}
