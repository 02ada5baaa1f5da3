import { describe, expect, it } from "vitest";
import { coalesceIds, createR2EmbeddingRows } from "../../bench/workerd/r2-embedding-rows.ts";

describe("R2 embedding rows (bench worker)", () => {
  it("coalesces sorted unique ids into runs", () => {
    expect(coalesceIds([7, 3, 4, 5, 3, 9, 10, 1])).toEqual([
      [1, 1],
      [3, 3],
      [7, 1],
      [9, 2],
    ]);
    expect(coalesceIds([])).toEqual([]);
  });

  it("gathers dequantised rows with one range read per run, never the whole table", async () => {
    const vocab = 50;
    const width = 4;
    const table = Int8Array.from({ length: vocab * width }, (_, i) => (i % 200) - 100);
    const scales = Float32Array.from({ length: vocab }, (_, i) => 0.5 + i / 100);
    const reads: { offset: number; length: number }[] = [];
    const bucket = {
      async get(key: string, options?: { range?: { offset: number; length: number } }) {
        expect(key).toBe("m/embeddings.i8");
        const range = options?.range;
        if (!range) throw new Error("whole-table read");
        reads.push(range);
        const bytes = new Uint8Array(table.buffer).slice(range.offset, range.offset + range.length);
        return { arrayBuffer: async () => bytes.buffer };
      },
    };
    const rows = createR2EmbeddingRows({ bucket, tableKey: "m/embeddings.i8", scales, width });
    const ids = BigInt64Array.from([49n % 50n, 3n, 4n, 3n, 20n].map(BigInt));
    const g = await rows.gather(ids);
    expect(g.reads).toBe(3);
    expect(g.bytes).toBe(4 * width);
    expect(reads.sort((a, b) => a.offset - b.offset)).toEqual([
      { offset: 3 * width, length: 2 * width },
      { offset: 20 * width, length: width },
      { offset: 49 * width, length: width },
    ]);
    expect(g.data.length).toBe(ids.length * width);
    ids.forEach((id, i) => {
      const n = Number(id);
      for (let j = 0; j < width; j++) {
        expect(g.data[i * width + j]).toBeCloseTo(table[n * width + j] * scales[n], 5);
      }
    });
    await expect(rows.gather(BigInt64Array.of(50n))).rejects.toThrow(/not in \[0, 50\)/);
  });
});
