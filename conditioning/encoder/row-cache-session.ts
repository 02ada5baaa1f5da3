/**
 * A byte-bounded LRU of encoded rows in front of a text session: each row of
 * `input_ids` (with its `attention_mask` row, at its sequence length, for one
 * set of fetched outputs) is encoded once, and later runs take its outputs from
 * memory. The rows a run misses are run together as one smaller batch, and the
 * outputs are joined back in the caller's row order.
 *
 * Exact because a row's outputs do not depend on the other rows of its batch
 * (per-token int8 and fp32 graphs; test/worker/int8-batch-independence). What
 * it buys: a diffusion request sends its prompt with the same negative prompt
 * over and over ("" or a house negative); the negative's rows are encoded once
 * per isolate, which halves a `/v1/conditioning` cache miss (docs/performance.md).
 *
 * Bounded in bytes (the row outputs held, keys ignored); a row bigger than the
 * whole cache is never kept. Runs with feeds other than `input_ids` /
 * `attention_mask`, or without an explicit fetch list, pass through.
 */
import type { InferenceSessionLike, TensorData, TensorFactory, TensorLike } from "./session.ts";

export interface RowCacheOptions {
  /** Bytes of row outputs kept (0 disables the cache). */
  maxBytes: () => number;
  tensor: TensorFactory;
}

export interface RowCacheStats {
  hits: number;
  misses: number;
  rows: number;
  bytes: number;
  evictions: number;
}

interface CachedOutput {
  type: string;
  data: TensorData;
  /** Dims of one row (the output's dims without the batch dimension). */
  dims: readonly number[];
}

type CachedRow = Record<string, CachedOutput>;

type TypedArrayCtor = new (
  length: number,
) => TensorData & { set(a: ArrayLike<unknown>, at: number): void };

const ROW_FEEDS = new Set(["input_ids", "attention_mask"]);

function rowKey(
  fetches: readonly string[],
  ids: TensorLike,
  mask: TensorLike | undefined,
  row: number,
  seq: number,
): string {
  const idData = ids.data as BigInt64Array;
  const parts = [
    fetches.join(","),
    String(seq),
    idData.subarray(row * seq, (row + 1) * seq).join(","),
  ];
  if (mask) parts.push((mask.data as BigInt64Array).subarray(row * seq, (row + 1) * seq).join(""));
  return parts.join("|");
}

export function withRowCache<S extends InferenceSessionLike>(
  session: S,
  options: RowCacheOptions,
): S & { rowCache: RowCacheStats } {
  const stats: RowCacheStats = { hits: 0, misses: 0, rows: 0, bytes: 0, evictions: 0 };
  // Map order is recency order: a hit is deleted and set again.
  const rows = new Map<string, { row: CachedRow; bytes: number }>();

  const evictTo = (limit: number) => {
    for (const [key, entry] of rows) {
      if (stats.bytes <= limit) break;
      rows.delete(key);
      stats.bytes -= entry.bytes;
      stats.rows--;
      stats.evictions++;
    }
  };

  const keep = (key: string, row: CachedRow) => {
    const bytes = Object.values(row).reduce((sum, o) => sum + o.data.byteLength, 0);
    const limit = options.maxBytes();
    if (bytes > limit || rows.has(key)) return;
    evictTo(limit - bytes);
    rows.set(key, { row, bytes });
    stats.bytes += bytes;
    stats.rows++;
  };

  async function run(
    feeds: Record<string, TensorLike>,
    fetches?: readonly string[],
  ): Promise<Record<string, TensorLike>> {
    const ids = feeds.input_ids;
    const mask = feeds.attention_mask;
    const cacheable =
      options.maxBytes() > 0 &&
      fetches !== undefined &&
      fetches.length > 0 &&
      ids?.type === "int64" &&
      ids.dims.length === 2 &&
      (mask === undefined || (mask.type === "int64" && mask.dims.join() === ids.dims.join())) &&
      Object.keys(feeds).every((name) => ROW_FEEDS.has(name));
    if (!cacheable) return session.run(feeds, fetches);
    evictTo(options.maxBytes());
    const [batch, seq] = ids.dims;
    const keys = Array.from({ length: batch }, (_, b) => rowKey(fetches, ids, mask, b, seq));
    const found: (CachedRow | undefined)[] = keys.map((key) => {
      const entry = rows.get(key);
      if (!entry) return undefined;
      rows.delete(key);
      rows.set(key, entry);
      return entry.row;
    });
    // The missing rows, each once, run as one batch.
    const missing: number[] = [];
    const seen = new Set<string>();
    keys.forEach((key, b) => {
      if (found[b] || seen.has(key)) return;
      seen.add(key);
      missing.push(b);
    });
    stats.hits += batch - missing.length;
    stats.misses += missing.length;
    const fresh = new Map<string, CachedRow>();
    if (missing.length > 0) {
      const pick = (t: TensorLike) => {
        const src = t.data as BigInt64Array;
        const out = new BigInt64Array(missing.length * seq);
        missing.forEach((b, i) => {
          out.set(src.subarray(b * seq, (b + 1) * seq), i * seq);
        });
        return options.tensor("int64", out, [missing.length, seq]);
      };
      const subFeeds: Record<string, TensorLike> = { input_ids: pick(ids) };
      if (mask) subFeeds.attention_mask = pick(mask);
      const outputs = await session.run(subFeeds, fetches);
      missing.forEach((b, i) => {
        const row: CachedRow = {};
        for (const name of fetches) {
          const t = outputs[name];
          if (!t) throw new Error(`row cache: the run returned no ${name}`);
          const data = t.data as TensorData;
          const size = data.length / missing.length;
          row[name] = {
            type: t.type,
            data: data.slice(i * size, (i + 1) * size) as TensorData,
            dims: t.dims.slice(1),
          };
        }
        fresh.set(keys[b], row);
      });
    }
    const rowOf = (b: number) => found[b] ?? fresh.get(keys[b])!;
    const result: Record<string, TensorLike> = {};
    for (const name of fetches) {
      const first = rowOf(0)[name];
      const size = first.data.length;
      const Ctor = first.data.constructor as TypedArrayCtor;
      const data = new Ctor(batch * size);
      for (let b = 0; b < batch; b++) data.set(rowOf(b)[name].data as ArrayLike<unknown>, b * size);
      result[name] = options.tensor(first.type as never, data, [batch, ...first.dims]);
    }
    for (const [key, row] of fresh) keep(key, row);
    return result;
  }

  return { ...session, run, rowCache: stats };
}
