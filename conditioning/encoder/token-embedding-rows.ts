/**
 * Token-embedding rows read on demand from a `token_embedding.safetensors`
 * (`prepare --token-embedding external-int8`: `weight` I8 [V, W], `scale` F32 [V])
 * through an injected `readRange`, so the table itself (ViT-L: 38 MB) is never
 * held in memory. Runtime-agnostic: a Worker passes an R2 ranged read, tests an
 * in-memory slice.
 *
 * - Start: the safetensors header (one read of the first `HEADER_PROBE_BYTES`,
 *   a second only when the header is longer), checked against the expected
 *   vocabulary size and width, then the whole `scale` vector (V * 4 bytes).
 * - `lookup(ids)`: unique ids only; ids in the LRU are not read again; the
 *   missing ones are sorted and coalesced: two ids share one range read when
 *   the rows between them total at most `gapBytes` (default 64 KiB), and one
 *   read covers at most `maxReadBytes` (default 256 KiB). At most `concurrency`
 *   (default 4) reads are in flight.
 * - LRU of int8 rows (W bytes each), `cacheRows` rows (default: 4 MiB worth,
 *   ViT-L 5461 rows). Rows are dequantised per lookup: weight[id] * scale[id],
 *   the same float arithmetic as `node/runtime/token-embedding-table.ts`.
 *
 * Concurrent lookups that miss the same row each read it (no in-flight sharing:
 * on workerd, I/O belongs to the request that started it).
 */
import { ClipEdgeError } from "../errors.ts";

export interface TokenEmbeddingRowsOptions {
  /** `length` bytes of the file from `offset` (exactly that many, or it throws). */
  readRange(offset: number, length: number): Promise<Uint8Array>;
  /** Names the file in errors (e.g. `clip-vit-large-patch14/token_embedding.safetensors`). */
  label: string;
  /** File size in bytes (the manifest's `bytes`). */
  fileSize: number;
  /** Expected V and W (manifest `architecture.text` vocabSize and hiddenSize). */
  vocabSize: number;
  width: number;
  /** LRU capacity in rows (default: 4 MiB of int8 rows). */
  cacheRows?: number;
  /** Largest gap (bytes of unwanted rows) bridged by one read (default 64 KiB). */
  gapBytes?: number;
  /** Largest single row read (default 256 KiB, so 4 reads in flight hold at most 1 MiB; always at least one row). */
  maxReadBytes?: number;
  /** Range reads in flight at once (default 4). */
  concurrency?: number;
}

export interface TokenEmbeddingRowsStats {
  /** Every range read, header and scales included. */
  rangeReads: number;
  /** Range reads made for rows by `lookup`. */
  rowReads: number;
  /** Rows fetched for lookups (wanted rows; gap rows bridged by a read not counted). */
  rowsRead: number;
  /** Unique ids of a lookup found in the LRU. */
  cacheHits: number;
  /** Bytes returned by all range reads. */
  bytesRead: number;
}

export interface TokenEmbeddingRows {
  readonly vocabSize: number;
  readonly width: number;
  readonly stats: TokenEmbeddingRowsStats;
  /** [ids.length * width] float32: weight[id] * scale[id] per position. */
  lookup(ids: ArrayLike<number | bigint>): Promise<Float32Array>;
  /**
   * Reads the rows of `ids` missing from the LRU into it, and builds nothing: a later
   * `lookup` of the same ids (while they are still in the LRU) does no I/O.
   */
  prefetch(ids: ArrayLike<number | bigint>): Promise<void>;
}

/** Where the two tensors of a token table are, as absolute file offsets. */
export interface TokenTableLayout {
  vocabSize: number;
  width: number;
  weightOffset: number;
  scaleOffset: number;
}

export const HEADER_PROBE_BYTES = 4096;
const DEFAULT_CACHE_BYTES = 4 * 1024 * 1024;

/** The JSON header length from a file's first 8 bytes, checked against the file size. */
export function tokenTableHeaderLength(
  prefix: Uint8Array,
  fileSize: number,
  label: string,
): number {
  if (prefix.byteLength < 8 || fileSize < 8) {
    throw new ClipEdgeError(
      "integrity",
      `${label}: ${Math.min(prefix.byteLength, fileSize)} bytes is too short for a safetensors header`,
    );
  }
  const length = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (length > fileSize - 8 || length > 100_000_000) {
    throw new ClipEdgeError(
      "integrity",
      `${label}: safetensors header length ${length} exceeds the file size ${fileSize}`,
    );
  }
  return length;
}

/**
 * Checks the header JSON (`weight` I8 [V, W], `scale` F32 [V], offsets inside
 * the file) and, when given, V and W against the manifest's architecture.
 */
export function tokenTableLayout(
  headerJson: Uint8Array,
  fileSize: number,
  label: string,
  expected: { vocabSize?: number; width?: number } = {},
): TokenTableLayout {
  let header: Record<string, { dtype?: string; shape?: number[]; data_offsets?: number[] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(headerJson));
  } catch (cause) {
    throw new ClipEdgeError("integrity", `${label}: safetensors header is not valid JSON`, {
      cause,
    });
  }
  const dataStart = 8 + headerJson.byteLength;
  const describe = (name: string) => {
    const t = header?.[name];
    return t ? `${t.dtype} [${t.shape}]` : "missing";
  };
  const weight = header?.weight;
  const scale = header?.scale;
  const [vocabSize, width] = weight?.shape ?? [];
  const wrong =
    weight?.dtype !== "I8" ||
    weight.shape?.length !== 2 ||
    scale?.dtype !== "F32" ||
    scale.shape?.length !== 1 ||
    scale.shape[0] !== vocabSize ||
    (expected.vocabSize !== undefined && vocabSize !== expected.vocabSize) ||
    (expected.width !== undefined && width !== expected.width);
  if (wrong) {
    const want = `[${expected.vocabSize ?? "V"}, ${expected.width ?? "W"}]`;
    throw new ClipEdgeError(
      "integrity",
      `${label}: expected "weight" I8 ${want} and "scale" F32 [${expected.vocabSize ?? "V"}], found weight ${describe("weight")} and scale ${describe("scale")}`,
    );
  }
  const span = (name: string, bytes: number): number => {
    const [from, to] = header[name].data_offsets ?? [];
    if (!Number.isInteger(from) || to - from !== bytes || from < 0 || dataStart + to > fileSize) {
      throw new ClipEdgeError(
        "integrity",
        `${label}: tensor ${name} ${describe(name)} has offsets ${from}..${to}, inconsistent with its shape or the file size ${fileSize}`,
      );
    }
    return dataStart + from;
  };
  return {
    vocabSize,
    width,
    weightOffset: span("weight", vocabSize * width),
    scaleOffset: span("scale", vocabSize * 4),
  };
}

/** `Number(id)` when it is a valid row of a vocabulary of `vocabSize`, else `invalid_input`. */
export function tokenRow(id: number | bigint, position: number, vocabSize: number): number {
  const row = Number(id);
  if (!Number.isInteger(row) || row < 0 || row >= vocabSize) {
    throw new ClipEdgeError(
      "invalid_input",
      `token id ${id} at position ${position} is outside the vocabulary [0, ${vocabSize})`,
    );
  }
  return row;
}

/** out[at .. at + row.length) = row * scale (the one dequantisation every runtime uses). */
export function dequantizeRow(out: Float32Array, at: number, row: Int8Array, scale: number): void {
  for (let j = 0; j < row.length; j++) out[at + j] = row[j] * scale;
}

/** A little-endian float32 vector from bytes at any alignment. */
export function float32From(bytes: Uint8Array): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

export async function createTokenEmbeddingRows(
  options: TokenEmbeddingRowsOptions,
): Promise<TokenEmbeddingRows> {
  const { label, fileSize } = options;
  const stats: TokenEmbeddingRowsStats = {
    rangeReads: 0,
    rowReads: 0,
    rowsRead: 0,
    cacheHits: 0,
    bytesRead: 0,
  };

  async function read(offset: number, length: number): Promise<Uint8Array> {
    stats.rangeReads++;
    const bytes = await options.readRange(offset, length);
    if (bytes.byteLength !== length) {
      throw new ClipEdgeError(
        "integrity",
        `${label}: a read of ${length} bytes at offset ${offset} returned ${bytes.byteLength} (file of ${fileSize} bytes)`,
      );
    }
    stats.bytesRead += length;
    return bytes;
  }

  const probe = await read(0, Math.min(fileSize, HEADER_PROBE_BYTES));
  const headerLength = tokenTableHeaderLength(probe, fileSize, label);
  const headerJson =
    8 + headerLength <= probe.byteLength
      ? probe.subarray(8, 8 + headerLength)
      : await read(8, headerLength);
  const layout = tokenTableLayout(headerJson, fileSize, label, options);
  const { vocabSize, width } = layout;
  const scales = float32From(await read(layout.scaleOffset, vocabSize * 4));

  const cacheRows = Math.max(
    0,
    Math.floor(options.cacheRows ?? DEFAULT_CACHE_BYTES / Math.max(1, width)),
  );
  const gapRows = Math.floor((options.gapBytes ?? 64 * 1024) / Math.max(1, width));
  const maxRows = Math.max(
    1,
    Math.floor((options.maxReadBytes ?? 256 * 1024) / Math.max(1, width)),
  );
  const concurrency = Math.max(1, options.concurrency ?? 4);
  /** id -> int8 row; Map order is recency (oldest first). */
  const cache = new Map<number, Int8Array>();

  /** Sorted missing ids -> spans of consecutive entries [from, to) of `sorted`, one range read each. */
  function coalesce(sorted: number[]): { from: number; to: number }[] {
    const spans: { from: number; to: number }[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const last = spans[spans.length - 1];
      const id = sorted[i];
      const near =
        last !== undefined &&
        id - sorted[last.to - 1] - 1 <= gapRows &&
        id - sorted[last.from] + 1 <= maxRows;
      if (near) last.to = i + 1;
      else spans.push({ from: i, to: i + 1 });
    }
    return spans;
  }

  async function fetchRows(missing: number[], into: Map<number, Int8Array>): Promise<void> {
    const spans = coalesce(missing);
    let next = 0;
    const reader = async () => {
      while (next < spans.length) {
        const { from, to } = spans[next++];
        const first = missing[from];
        const count = missing[to - 1] - first + 1;
        stats.rowReads++;
        const bytes = await read(layout.weightOffset + first * width, count * width);
        for (let k = from; k < to; k++) {
          const start = bytes.byteOffset + (missing[k] - first) * width;
          // A copy, so the cache does not pin the whole range buffer.
          into.set(missing[k], new Int8Array(bytes.buffer, start, width).slice());
          stats.rowsRead++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, spans.length) }, reader));
  }

  /** Each position's row id, and the int8 row of every unique id (from the LRU or read). */
  async function gather(ids: ArrayLike<number | bigint>) {
    const rows = new Map<number, Int8Array>();
    const order: number[] = new Array(ids.length);
    const missingSet = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const id = tokenRow(ids[i], i, vocabSize);
      order[i] = id;
      if (rows.has(id)) continue;
      const hit = cache.get(id);
      if (hit) {
        stats.cacheHits++;
        cache.delete(id);
        cache.set(id, hit);
        rows.set(id, hit);
      } else missingSet.add(id);
    }
    if (missingSet.size > 0) {
      const missing = [...missingSet].sort((a, b) => a - b);
      const fetched = new Map<number, Int8Array>();
      await fetchRows(missing, fetched);
      for (const [id, row] of fetched) {
        rows.set(id, row);
        if (cacheRows === 0) continue;
        cache.set(id, row);
        if (cache.size > cacheRows) cache.delete(cache.keys().next().value as number);
      }
    }
    return { order, rows };
  }

  return {
    vocabSize,
    width,
    stats,
    async prefetch(ids) {
      await gather(ids);
    },
    async lookup(ids) {
      const { order, rows } = await gather(ids);
      const out = new Float32Array(ids.length * width);
      for (let i = 0; i < order.length; i++) {
        const id = order[i];
        dequantizeRow(out, i * width, rows.get(id)!, scales[id]);
      }
      return out;
    },
  };
}
