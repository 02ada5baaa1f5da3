import { describe, expect, it } from "vitest";
import type { InferenceSessionLike, TensorLike } from "../../../conditioning/encoder/session.ts";
import {
  createTokenEmbeddingRows,
  type TokenEmbeddingRowsOptions,
} from "../../../conditioning/encoder/token-embedding-rows.ts";
import { withTokenEmbeds } from "../../../conditioning/encoder/token-embeds-session.ts";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { serializeSafetensors } from "../../../conditioning/formats/safetensors.ts";
import { quantizeInt8PerRow } from "../../../node/prepare/quantize-weights.ts";
import { createTokenEmbeddingTable } from "../../../node/runtime/token-embedding-table.ts";

const V = 1000;
const W = 24;

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function tableFile(
  vocab = V,
  width = W,
  metadata?: Record<string, string>,
  weightDtype: "I8" | "U8" = "I8",
): Uint8Array {
  const random = rng(7);
  const table = Float32Array.from({ length: vocab * width }, () => (random() - 0.5) * 0.2);
  const q = quantizeInt8PerRow(table, vocab, width);
  return serializeSafetensors(
    {
      weight: { dtype: weightDtype, shape: [vocab, width], data: q.data },
      scale: { dtype: "F32", shape: [vocab], data: q.scales },
    },
    metadata,
  );
}

/** An in-memory readRange that records every read and the reads in flight at once. */
function memoryReader(bytes: Uint8Array, delayMs = 0) {
  const reads: [number, number][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const readRange = async (offset: number, length: number) => {
    reads.push([offset, length]);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    inFlight--;
    return bytes.slice(offset, Math.min(bytes.byteLength, offset + length));
  };
  return { reads, readRange, maxInFlight: () => maxInFlight };
}

function open(bytes: Uint8Array, extra: Partial<TokenEmbeddingRowsOptions> = {}) {
  const reader = memoryReader(bytes);
  return createTokenEmbeddingRows({
    readRange: reader.readRange,
    label: "m/token_embedding.safetensors",
    fileSize: bytes.byteLength,
    vocabSize: V,
    width: W,
    ...extra,
  }).then((rows) => ({ rows, reader }));
}

async function errorOf(promise: Promise<unknown>): Promise<ClipEdgeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClipEdgeError);
  return error as ClipEdgeError;
}

describe("createTokenEmbeddingRows", () => {
  const bytes = tableFile();
  const whole = createTokenEmbeddingTable(bytes);

  it("equals the whole-file table lookup exactly (random ids, repeats, 0 and V-1)", async () => {
    const { rows, reader } = await open(bytes);
    expect(reader.reads.length).toBe(2); // header probe + scales
    const random = rng(42);
    const ids = Array.from({ length: 77 }, () => Math.floor(random() * V));
    ids.push(0, V - 1, ids[3], ids[3], 0);
    expect(await rows.lookup(ids)).toEqual(whole.lookup(ids));
    const big = BigInt64Array.from([V - 1, 0, 5, 5, 999, 1].map(BigInt));
    expect(await rows.lookup(big)).toEqual(whole.lookup(big));
    expect((await rows.lookup([])).length).toBe(0);
  });

  it("reads a missing row once and then serves it from the LRU", async () => {
    const { rows, reader } = await open(bytes, { gapBytes: 0 });
    const ids = [400, 3, 400, 77, 3];
    await rows.lookup(ids);
    expect(rows.stats).toMatchObject({ rowReads: 3, rowsRead: 3, cacheHits: 0 });
    const before = reader.reads.length;
    expect(await rows.lookup([3, 77, 400, 3])).toEqual(whole.lookup([3, 77, 400, 3]));
    expect(reader.reads.length).toBe(before);
    expect(rows.stats).toMatchObject({ rowReads: 3, rowsRead: 3, cacheHits: 3 });
  });

  it("evicts the least recently used row past cacheRows", async () => {
    const { rows } = await open(bytes, { gapBytes: 0, cacheRows: 2 });
    await rows.lookup([1]);
    await rows.lookup([2]);
    await rows.lookup([1]); // 1 is now the most recent
    await rows.lookup([3]); // evicts 2
    expect(rows.stats).toMatchObject({ rowsRead: 3, cacheHits: 1 });
    await rows.lookup([1, 3]);
    expect(rows.stats).toMatchObject({ rowsRead: 3, cacheHits: 3 });
    await rows.lookup([2]);
    expect(rows.stats.rowsRead).toBe(4);
    // A lookup wider than the cache still answers every position.
    const wide = [10, 500, 20, 900, 10];
    expect(await rows.lookup(wide)).toEqual(whole.lookup(wide));
  });

  it("coalesces nearby ids into one range read and splits far ones", async () => {
    const ids = [10, 12, 11, 13, 40, 600, 601];
    const apart = await open(bytes, { gapBytes: 0 });
    await apart.rows.lookup(ids);
    // gap 0: [10..13], [40], [600..601]
    expect(apart.rows.stats.rowReads).toBe(3);
    const near = await open(bytes, { gapBytes: 30 * W });
    await near.rows.lookup(ids);
    // 40 is 26 rows after 13: [10..40], [600..601]
    expect(near.rows.stats.rowReads).toBe(2);
    expect(near.reader.reads.at(-2)).toEqual([near.reader.reads.at(-2)![0], 31 * W]);
    const capped = await open(bytes, { gapBytes: 30 * W, maxReadBytes: 8 * W });
    await capped.rows.lookup(ids);
    // reads of at most 8 rows: [10..13], [40], [600..601]
    expect(capped.rows.stats.rowReads).toBe(3);
    for (const r of [apart, near, capped]) {
      expect(r.rows.stats.rowsRead).toBe(7);
      expect(await r.rows.lookup(ids)).toEqual(whole.lookup(ids));
    }
  });

  it("keeps at most `concurrency` reads in flight", async () => {
    const reader = memoryReader(bytes, 5);
    const rows = await createTokenEmbeddingRows({
      readRange: reader.readRange,
      label: "t",
      fileSize: bytes.byteLength,
      vocabSize: V,
      width: W,
      gapBytes: 0,
      concurrency: 2,
    });
    const ids = [0, 100, 200, 300, 400, 500, 600];
    expect(await rows.lookup(ids)).toEqual(whole.lookup(ids));
    expect(rows.stats.rowReads).toBe(7);
    expect(reader.maxInFlight()).toBe(2);
  });

  it("names an out-of-vocabulary id and its position", async () => {
    const { rows } = await open(bytes);
    const error = await errorOf(rows.lookup([5, V]));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(
      `token id ${V} at position 1 is outside the vocabulary [0, ${V})`,
    );
    expect((await errorOf(rows.lookup(BigInt64Array.from([-1n])))).message).toMatch(
      /token id -1 at position 0/,
    );
    expect(rows.stats.rowReads).toBe(0);
  });

  it("reads a header longer than the first probe with a second read", async () => {
    const long = tableFile(V, W, { note: "x".repeat(6000) });
    const { rows, reader } = await open(long);
    expect(reader.reads.length).toBe(3);
    const ids = [0, 1, V - 1];
    expect(await rows.lookup(ids)).toEqual(whole.lookup(ids));
  });

  it("rejects truncated files and wrong headers with messages that name the file and shapes", async () => {
    const tooShort = await errorOf(open(bytes.slice(0, 4)));
    expect(tooShort.code).toBe("integrity");
    expect(tooShort.message).toMatch(/m\/token_embedding.safetensors: 4 bytes is too short/);

    const headerCut = await errorOf(open(bytes.slice(0, 40)));
    expect(headerCut.message).toMatch(/header length \d+ exceeds the file size 40/);

    const dataCut = await errorOf(open(bytes.slice(0, bytes.byteLength - 100)));
    expect(dataCut.message).toMatch(/tensor scale F32 \[1000\] has offsets .* file size/);

    const narrow = await errorOf(open(tableFile(V, 16)));
    expect(narrow.message).toMatch(
      /expected "weight" I8 \[1000, 24\] and "scale" F32 \[1000\], found weight I8 \[1000,16\]/,
    );
    const unsigned = await errorOf(open(tableFile(V, W, undefined, "U8")));
    expect(unsigned.message).toMatch(/found weight U8 \[1000,24\]/);

    const junk = new Uint8Array(64);
    new DataView(junk.buffer).setBigUint64(0, 10n, true);
    expect((await errorOf(open(junk))).message).toMatch(/header is not valid JSON/);
  });

  it("fails when readRange returns fewer bytes than asked", async () => {
    const error = await errorOf(
      createTokenEmbeddingRows({
        readRange: async (offset, length) => bytes.slice(offset, offset + length - 1),
        label: "short",
        fileSize: bytes.byteLength,
        vocabSize: V,
        width: W,
      }),
    );
    expect(error.code).toBe("integrity");
    expect(error.message).toMatch(/short: a read of \d+ bytes at offset 0 returned/);
  });
});

describe("withTokenEmbeds", () => {
  it("feeds token_embeds from input_ids and hides it from inputNames", async () => {
    const bytes = tableFile();
    const { rows } = await open(bytes);
    const seen: Record<string, TensorLike>[] = [];
    const session: InferenceSessionLike & { stats: { runs: number } } = {
      inputNames: ["input_ids", "token_embeds"],
      outputNames: ["last_hidden_state"],
      stats: { runs: 0 },
      async run(feeds) {
        seen.push(feeds);
        return { last_hidden_state: feeds.token_embeds };
      },
    };
    const wrapped = withTokenEmbeds(session, rows, (type, data, dims) => ({ type, data, dims }));
    expect(wrapped.inputNames).toEqual(["input_ids"]);
    expect(wrapped.stats).toBe(session.stats);
    const ids = BigInt64Array.from([49, 0, 7, 999, 1, 1].map(BigInt));
    await wrapped.run({ input_ids: { type: "int64", data: ids, dims: [2, 3] } });
    expect(seen[0].token_embeds.dims).toEqual([2, 3, W]);
    expect(seen[0].token_embeds.data).toEqual(createTokenEmbeddingTable(bytes).lookup(ids));
    await expect(wrapped.run({})).rejects.toThrow(/takes token_embeds from input_ids/);
  });
});
