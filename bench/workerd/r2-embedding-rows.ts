/**
 * Token embedding rows read from R2 by range (the bench worker's stand-in for
 * a runtime that keeps the int8 token table [V, W] outside the graph): the
 * ids of a request are sorted, runs of adjacent ids are coalesced into one
 * range read each, the reads go out concurrently and the rows are
 * dequantised (`row * scale[id]`) into a float32 [ids.length, W] buffer. The
 * table is never read whole; the per-row scales ([V] float32) are read once.
 */
export interface R2RangeBucket {
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

export interface R2EmbeddingRowsOptions {
  bucket: R2RangeBucket;
  tableKey: string;
  /** Per-row scales, float32 [V]. */
  scales: Float32Array;
  width: number;
}

export interface EmbeddingGather {
  data: Float32Array;
  /** Range reads issued. */
  reads: number;
  /** Table bytes read. */
  bytes: number;
}

export interface R2EmbeddingRows {
  gather(ids: BigInt64Array): Promise<EmbeddingGather>;
}

/** Sorted unique ids -> [first, count] runs of consecutive ids. */
export function coalesceIds(ids: Iterable<number>): [number, number][] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const id of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === id) last[1]++;
    else runs.push([id, 1]);
  }
  return runs;
}

export function createR2EmbeddingRows(options: R2EmbeddingRowsOptions): R2EmbeddingRows {
  const { bucket, tableKey, scales, width } = options;
  return {
    async gather(ids) {
      const vocab = scales.length;
      const numbers = Array.from(ids, (id) => {
        const n = Number(id);
        if (!Number.isInteger(n) || n < 0 || n >= vocab) {
          throw new Error(`token id ${n} is not in [0, ${vocab})`);
        }
        return n;
      });
      const runs = coalesceIds(numbers);
      const rows = new Map<number, Int8Array>();
      let bytes = 0;
      await Promise.all(
        runs.map(async ([first, count]) => {
          const length = count * width;
          const object = await bucket.get(tableKey, { range: { offset: first * width, length } });
          if (!object) throw new Error(`no ${tableKey} in R2`);
          const buffer = await object.arrayBuffer();
          if (buffer.byteLength !== length) {
            throw new Error(`${tableKey}: range read of ${length} bytes got ${buffer.byteLength}`);
          }
          bytes += length;
          for (let i = 0; i < count; i++) {
            rows.set(first + i, new Int8Array(buffer, i * width, width));
          }
        }),
      );
      const data = new Float32Array(numbers.length * width);
      numbers.forEach((id, i) => {
        const row = rows.get(id)!;
        const scale = scales[id];
        const offset = i * width;
        for (let j = 0; j < width; j++) data[offset + j] = row[j] * scale;
      });
      return { data, reads: runs.length, bytes };
    },
  };
}
