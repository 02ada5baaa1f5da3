import { closeSync, openSync, readSync } from "node:fs";

/**
 * Token embeddings kept outside the graph: an int8 table [V, W] and fp32
 * per-row scales [V], read by row on demand (positional file reads standing
 * in for R2 range reads), dequantised in JS into `inputs_embeds`.
 * Nothing of the table stays in memory between calls.
 */
export interface EmbeddingRows {
  /** ids [B*S] -> inputs_embeds [B*S*W] float32. */
  gather(ids: BigInt64Array): Float32Array;
  close(): void;
}

export function createEmbeddingRows(
  tablePath: string,
  scalesPath: string,
  width: number,
): EmbeddingRows {
  const table = openSync(tablePath, "r");
  const scales = openSync(scalesPath, "r");
  const row = new Int8Array(width);
  const rowBytes = new Uint8Array(row.buffer);
  const scale = new Float32Array(1);
  const scaleBytes = new Uint8Array(scale.buffer);
  return {
    gather(ids) {
      const out = new Float32Array(ids.length * width);
      for (let t = 0; t < ids.length; t++) {
        const id = Number(ids[t]);
        readSync(table, rowBytes, 0, width, id * width);
        readSync(scales, scaleBytes, 0, 4, id * 4);
        const s = scale[0];
        const base = t * width;
        for (let c = 0; c < width; c++) out[base + c] = row[c] * s;
      }
      return out;
    },
    close() {
      closeSync(table);
      closeSync(scales);
    },
  };
}
