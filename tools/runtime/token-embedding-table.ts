import type { TensorLike } from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { parseSafetensors, tensorToFloat32 } from "../../conditioning/formats/safetensors.ts";
import type { AdaptedSession } from "./adapt-session.ts";

/**
 * Token-embedding table kept outside the text graph (`--token-embedding
 * external-int8`): a safetensors file with `weight` I8 [V, W] and `scale` F32 [V].
 * Only the rows of the ids being encoded are dequantised. Runtime-agnostic
 * (bytes in, Float32Array out): a Worker can build it from an R2 object.
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
  const { tensors } = parseSafetensors(bytes, label);
  const weight = tensors.get("weight");
  const scaleEntry = tensors.get("scale");
  if (weight?.dtype !== "I8" || weight.shape.length !== 2 || !scaleEntry) {
    throw new ClipEdgeError(
      "malformed",
      `${label}: expected "weight" I8 [V, W] and "scale" F32 [V]`,
    );
  }
  const [vocabSize, width] = weight.shape;
  const scale = tensorToFloat32(scaleEntry, `${label}:scale`);
  if (scale.length !== vocabSize) {
    throw new ClipEdgeError(
      "malformed",
      `${label}: scale has ${scale.length} entries for ${vocabSize} rows`,
    );
  }
  const table = new Int8Array(
    weight.bytes.buffer,
    weight.bytes.byteOffset,
    weight.bytes.byteLength,
  );
  return {
    vocabSize,
    width,
    lookup(ids) {
      const out = new Float32Array(ids.length * width);
      for (let i = 0; i < ids.length; i++) {
        const id = Number(ids[i]);
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new ClipEdgeError(
            "invalid_input",
            `token id ${ids[i]} at position ${i} is outside the vocabulary [0, ${vocabSize})`,
          );
        }
        const s = scale[id];
        const row = id * width;
        for (let j = 0; j < width; j++) out[i * width + j] = table[row + j] * s;
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
  return {
    ...session,
    inputNames: session.inputNames.filter((n) => n !== "token_embeds"),
    async run(feeds: Record<string, TensorLike>, fetches?: readonly string[]) {
      if (feeds.token_embeds || !feeds.input_ids) return session.run(feeds, fetches);
      const ids = feeds.input_ids;
      const embeds = table.lookup(ids.data as BigInt64Array);
      const token_embeds = session.tensor("float32", embeds, [...ids.dims, table.width]);
      return session.run({ ...feeds, token_embeds }, fetches);
    },
  };
}
