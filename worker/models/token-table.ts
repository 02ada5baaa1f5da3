/**
 * The external token-embedding table of a text graph (`prepare --token-embedding
 * external-int8`) read from R2 by range: the isolate holds the header, the
 * scales (V * 4 bytes) and an LRU of rows, never the table (ViT-L: 38 MB int8).
 * The registry wraps the text session with `withTokenEmbeds`
 * (conditioning/encoder/token-embeds-session.ts) so callers still feed only
 * `input_ids`.
 *
 * That wrapper sits over the batched session, not under it: each request gathers
 * its own rows in its own context (workerd binds I/O to the request that made
 * it), and the R2 latency of one request's cache misses does not hold the run
 * queue that other requests' batches wait on. The batched session then
 * concatenates `token_embeds` like any other feed (right-padded with zeros, the
 * padded positions being masked by causality like the padded ids).
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
