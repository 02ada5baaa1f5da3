import {
  dequantizeRow,
  float32From,
  tokenRow,
  tokenTableHeaderLength,
  tokenTableLayout,
} from "../../conditioning/encoder/token-embedding-rows.ts";
import { withTokenEmbeds } from "../../conditioning/encoder/token-embeds-session.ts";
import type { AdaptedSession } from "./adapt-session.ts";

/**
 * Token-embedding table kept outside the text graph (`--token-embedding
 * external-int8`): a safetensors file with `weight` I8 [V, W] and `scale` F32 [V],
 * held whole (CLI, origin). Only the rows of the ids being encoded are
 * dequantised. The Worker reads rows by range instead
 * (`conditioning/encoder/token-embedding-rows.ts`, same header checks and arithmetic).
 */
export interface TokenEmbeddingTable {
  readonly vocabSize: number;
  readonly width: number;
  /** [ids.length * width] float32 rows for the given ids. */
  lookup(ids: ArrayLike<number | bigint>): Float32Array;
}

export function createTokenEmbeddingTable(
  bytes: Uint8Array,
  label = "token_embedding.safetensors",
): TokenEmbeddingTable {
  const headerLength = tokenTableHeaderLength(bytes, bytes.byteLength, label);
  const layout = tokenTableLayout(bytes.subarray(8, 8 + headerLength), bytes.byteLength, label);
  const { vocabSize, width } = layout;
  const table = new Int8Array(
    bytes.buffer,
    bytes.byteOffset + layout.weightOffset,
    vocabSize * width,
  );
  const scale = float32From(bytes.subarray(layout.scaleOffset, layout.scaleOffset + vocabSize * 4));
  return {
    vocabSize,
    width,
    lookup(ids) {
      const out = new Float32Array(ids.length * width);
      for (let i = 0; i < ids.length; i++) {
        const id = tokenRow(ids[i], i, vocabSize);
        dequantizeRow(out, i * width, table.subarray(id * width, (id + 1) * width), scale[id]);
      }
      return out;
    },
  };
}

/**
 * Wraps a text session whose graph takes `token_embeds` so callers keep feeding
 * only `input_ids`: the wrapper gathers the rows and adds the feed.
 */
export function withTokenEmbeddingTable(
  session: AdaptedSession,
  table: TokenEmbeddingTable,
): AdaptedSession {
  return withTokenEmbeds(session, table, session.tensor);
}
