import { describe, expect, it } from "vitest";
import { withRowCache } from "../../../conditioning/encoder/row-cache-session.ts";
import type {
  InferenceSessionLike,
  TensorData,
  TensorLike,
} from "../../../conditioning/encoder/session.ts";

const tensor = (type: string, data: TensorData, dims: readonly number[]): TensorLike => ({
  type,
  data,
  dims,
});

/**
 * A session whose outputs are a function of each row alone: hidden[b, t, w] =
 * id[b, t] * (w + 1) + mask[b, t] * 0.5, pooled[b] = sum of the row's ids. Records the
 * batches it ran.
 */
function fakeSession(width = 3) {
  const ran: number[][][] = [];
  const session: InferenceSessionLike = {
    inputNames: ["input_ids", "attention_mask"],
    outputNames: ["last_hidden_state", "pooled"],
    async run(feeds, fetches) {
      const ids = feeds.input_ids.data as BigInt64Array;
      const mask = feeds.attention_mask?.data as BigInt64Array | undefined;
      const [batch, seq] = feeds.input_ids.dims;
      ran.push(
        Array.from({ length: batch }, (_, b) =>
          Array.from(ids.subarray(b * seq, (b + 1) * seq), Number),
        ),
      );
      const hidden = new Float32Array(batch * seq * width);
      const pooled = new Float32Array(batch);
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < seq; t++) {
          const id = Number(ids[b * seq + t]);
          const m = mask ? Number(mask[b * seq + t]) : 1;
          pooled[b] += id;
          for (let w = 0; w < width; w++)
            hidden[(b * seq + t) * width + w] = id * (w + 1) + m * 0.5;
        }
      }
      const out: Record<string, TensorLike> = {
        last_hidden_state: tensor("float32", hidden, [batch, seq, width]),
        pooled: tensor("float32", pooled, [batch]),
      };
      return Object.fromEntries((fetches ?? Object.keys(out)).map((f) => [f, out[f]]));
    },
  };
  return { session, ran };
}

const idsTensor = (rows: number[][]) =>
  tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

const FETCH = ["last_hidden_state", "pooled"];

describe("withRowCache", () => {
  it("runs only the rows it has not seen, once each, and answers what the session would", async () => {
    const { session, ran } = fakeSession();
    const { session: plain } = fakeSession();
    const cached = withRowCache(session, { maxBytes: () => 1e6, tensor });
    const a = [1, 2, 3];
    const b = [4, 5, 6];
    const c = [7, 8, 9];
    for (const rows of [
      [a, b],
      [b, c, b],
      [c, a],
    ]) {
      const feeds = { input_ids: idsTensor(rows) };
      const got = await cached.run(feeds, FETCH);
      const want = await plain.run(feeds, FETCH);
      for (const name of FETCH) {
        expect(got[name].dims).toEqual(want[name].dims);
        expect(Array.from(got[name].data as Float32Array)).toEqual(
          Array.from(want[name].data as Float32Array),
        );
      }
    }
    // [a, b] ran; then only c (b twice in the request: a hit and a duplicate); then nothing.
    expect(ran).toEqual([[a, b], [c]]);
    expect(cached.rowCache).toMatchObject({ hits: 4, misses: 3, rows: 3 });
  });

  it("keys rows by the fetched outputs, the mask and the sequence length", async () => {
    const { session, ran } = fakeSession();
    const cached = withRowCache(session, { maxBytes: () => 1e6, tensor });
    await cached.run({ input_ids: idsTensor([[1, 2, 3]]) }, FETCH);
    await cached.run({ input_ids: idsTensor([[1, 2, 3]]) }, ["pooled"]);
    await cached.run(
      { input_ids: idsTensor([[1, 2, 3]]), attention_mask: idsTensor([[1, 0, 1]]) },
      FETCH,
    );
    await cached.run({ input_ids: idsTensor([[1, 2]]) }, FETCH);
    expect(ran.length).toBe(4);
    expect(cached.rowCache.hits).toBe(0);
  });

  it("stays within its bytes, evicting the least recently used row, and keeps no row bigger than itself", async () => {
    const { session, ran } = fakeSession();
    // One row of these outputs: 3 x 3 + 1 floats = 40 bytes; room for two.
    const cached = withRowCache(session, { maxBytes: () => 80, tensor });
    const run = (row: number[]) => cached.run({ input_ids: idsTensor([row]) }, FETCH);
    await run([1, 1, 1]);
    await run([2, 2, 2]);
    await run([1, 1, 1]); // hit: [2,2,2] is now the oldest
    await run([3, 3, 3]); // evicts [2,2,2]
    await run([1, 1, 1]); // still a hit
    await run([2, 2, 2]); // ran again
    expect(ran.map((r) => r[0][0])).toEqual([1, 2, 3, 2]);
    expect(cached.rowCache.bytes).toBeLessThanOrEqual(80);
    expect(cached.rowCache.evictions).toBe(2);

    const tiny = withRowCache(fakeSession().session, { maxBytes: () => 39, tensor });
    await tiny.run({ input_ids: idsTensor([[1, 1, 1]]) }, FETCH);
    expect(tiny.rowCache).toMatchObject({ rows: 0, bytes: 0 });
  });

  it("hands out copies: changing an answer does not change what the cache holds", async () => {
    const { session } = fakeSession();
    const cached = withRowCache(session, { maxBytes: () => 1e6, tensor });
    const feeds = { input_ids: idsTensor([[5, 6, 7]]) };
    const first = await cached.run(feeds, FETCH);
    const before = Array.from(first.pooled.data as Float32Array);
    (first.pooled.data as Float32Array).fill(-1);
    const second = await cached.run(feeds, FETCH);
    (second.last_hidden_state.data as Float32Array).fill(-1);
    const third = await cached.run(feeds, FETCH);
    expect(Array.from(third.pooled.data as Float32Array)).toEqual(before);
    expect((third.last_hidden_state.data as Float32Array)[0]).toBe(5.5);
  });

  it("passes through when disabled, without fetches, or with other feeds", async () => {
    const { session, ran } = fakeSession();
    let bytes = 0;
    const cached = withRowCache(session, { maxBytes: () => bytes, tensor });
    const feeds = { input_ids: idsTensor([[1, 2, 3]]) };
    await cached.run(feeds, FETCH);
    await cached.run(feeds, FETCH);
    bytes = 1e6;
    await cached.run(feeds);
    await cached.run(
      { ...feeds, token_embeds: tensor("float32", new Float32Array(9), [1, 3, 3]) },
      FETCH,
    );
    expect(ran.length).toBe(4);
    expect(cached.rowCache).toMatchObject({ hits: 0, misses: 0, rows: 0 });
  });
});
