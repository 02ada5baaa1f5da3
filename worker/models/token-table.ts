/**
 * The external token-embedding table of a text graph (`prepare --token-embedding
 * external-int8`) read from R2 by range: the isolate holds the header, the
 * scales (V * 4 bytes) and an LRU of rows, never the table (ViT-L: 38 MB int8).
 * The registry wraps the text session so callers still feed only `input_ids`
 * (conditioning/encoder/token-embeds-session.ts), in two layers around the
 * batched session:
 * - over it, `withTokenPrefetch`: each request reads its own missing rows into
 *   the LRU in its own context (workerd binds I/O to the request that made it),
 *   so the R2 latency of one request's misses does not hold the run queue;
 * - under it, `withTokenEmbeds`: the batch's float32 `token_embeds` are built
 *   from the LRU when the batch runs. Waiting requests hold only their ids, not
 *   [seq, W] float32 rows (236 KB per 77-token ViT-L row: 15 MB for 64 queued
 *   rows, JS memory beside the WASM heap in a 128 MB isolate). A row evicted
 *   from the LRU meanwhile is read again by the request that runs the batch.
 */
import type { BundleManifest, GraphEntry } from "../../conditioning/bundle/manifest.ts";
import {
  createTokenEmbeddingRows,
  type TokenEmbeddingRows,
  type TokenEmbeddingRowsOptions,
} from "../../conditioning/encoder/token-embedding-rows.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { BundleStore } from "./bundle-store.ts";

export type TokenRowsTuning = Pick<
  TokenEmbeddingRowsOptions,
  "cacheRows" | "gapBytes" | "maxReadBytes" | "concurrency"
>;

/** Reads the table's header and scales (the first load fails here when the file is missing or wrong). */
export async function openTokenTable(
  store: BundleStore,
  model: string,
  manifest: BundleManifest,
  graph: GraphEntry,
  tuning: TokenRowsTuning = {},
): Promise<TokenEmbeddingRows> {
  const table = graph.tokenEmbeddingTable;
  const text = manifest.architecture.text;
  if (!table || !text) {
    throw new ClipEdgeError(
      "integrity",
      `model ${model}: text graph ${graph.file} has tokenEmbedding "external-int8" but the manifest has no ${table ? "architecture.text" : "tokenEmbeddingTable"}`,
    );
  }
  return createTokenEmbeddingRows({
    ...tuning,
    label: `${model}/${table.file}`,
    fileSize: table.bytes,
    vocabSize: text.vocabSize,
    width: text.hiddenSize,
    readRange: (offset, length) =>
      store.getRange(model, table.file, { offset, length }, { bytes: table.bytes }),
  });
}
