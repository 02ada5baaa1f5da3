import { serializeSafetensors } from "../../conditioning/formats/safetensors.ts";
import { attr, type GraphBuilder } from "../onnx/graph-builder.ts";
import { DataType } from "../onnx/onnx-proto.ts";
import { quantizeInt8PerRow } from "./quantize-weights.ts";

/** Name of the table file `--token-embedding external-int8` writes beside the graph. */
export const TOKEN_TABLE_FILE = "token_embedding.safetensors";

/**
 * The external token table (`--token-embedding external-int8`): `weight` I8 [V, W]
 * and `scale` F32 [V], the per-row int8 the in-graph "int8" mode gathers.
 */
export function tokenTableSafetensors(
  table: Float32Array,
  vocab: number,
  width: number,
): Uint8Array {
  const q = quantizeInt8PerRow(table, vocab, width);
  return serializeSafetensors({
    weight: { dtype: "I8", shape: [vocab, width], data: q.data },
    scale: { dtype: "F32", shape: [vocab], data: q.scales },
  });
}

/** How the token-embedding table is stored and looked up in the text graph. */
export type TokenEmbeddingMode = "fp32" | "int8" | "external-int8";

/**
 * Emits the token-embedding lookup for `ids` [B, S] int64; returns [B, S, W] float.
 * "int8": per-row symmetric int8 table + per-row scales; both are gathered by id
 * first, so only the S used rows are ever dequantised.
 */
export function emitTokenEmbedding(
  g: GraphBuilder,
  ids: string,
  table: Float32Array,
  vocab: number,
  width: number,
  mode: TokenEmbeddingMode,
): string {
  if (mode === "external-int8") {
    // The runtime gathers rows from token_embedding.safetensors (see node/runtime/token-embedding-table.ts).
    return g.input("token_embeds", DataType.FLOAT, ["batch", "sequence", width]);
  }
  if (mode === "fp32") {
    const t = g.initializer("token_embedding", DataType.FLOAT, [vocab, width], table);
    return g.node("Gather", [t, ids], { axis: attr.int(0) }, { name: "tok_emb" });
  }
  const q = quantizeInt8PerRow(table, vocab, width);
  const t = g.initializer("token_embedding_q", DataType.INT8, [vocab, width], q.data);
  const s = g.initializer("token_embedding_scale", DataType.FLOAT, [vocab, 1], q.scales);
  const rows = g.node("Gather", [t, ids], { axis: attr.int(0) }, { name: "tok_emb_q" });
  const scales = g.node("Gather", [s, ids], { axis: attr.int(0) }, { name: "tok_emb_scale" });
  const f = g.node("Cast", [rows], { to: attr.int(DataType.FLOAT) }, { name: "tok_emb_f" });
  return g.node("Mul", [f, scales], {}, { name: "tok_emb" });
}
