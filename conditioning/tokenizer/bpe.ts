/**
 * Byte-level BPE with CLIP's `</w>` end-of-word suffix.
 *
 * Merges are ranked on pairs of token ids (key `left * vocabSize + right`), so a merge step is
 * integer work only; words are cached in a bounded map (cleared wholesale when full, like a
 * generation cache - cheap and O(1)).
 */
import { ClipEdgeError } from "../errors.ts";
import { mergeWithHeap } from "./bpe-heap.ts";
import { bytesToUnicode } from "./byte-encoder.ts";
import { createPairTable } from "./pair-table.ts";

/** Longer words are not cached (they are rare, and would pin large keys in memory). */
const MAX_CACHED_WORD = 256;

export interface BpeModel {
  readonly vocab: ReadonlyMap<string, number>;
  /** id -> token string. */
  readonly tokens: readonly string[];
  /** Encodes one pre-token (already lowercased text) to ids, appending `</w>` to its last symbol. */
  encodeWord(word: string): readonly number[];
  /** Same without the cache (for benchmarks and tests). */
  encodeWordUncached(word: string): number[];
  readonly cacheSize: () => number;
}

export interface BpeOptions {
  vocab: ReadonlyMap<string, number>;
  /** Merge pairs in rank order. */
  merges: ReadonlyArray<readonly [string, string]>;
  /** Maximum number of cached words (default 20000; 0 disables the cache). */
  cacheLimit?: number;
  endOfWord?: string;
  /** Words with more bytes than this merge with a heap, O(n log n) (default 64). */
  heapThreshold?: number;
}

export function createBpe(options: BpeOptions): BpeModel {
  const { vocab, merges } = options;
  const endOfWord = options.endOfWord ?? "</w>";
  const cacheLimit = options.cacheLimit ?? 20_000;
  const heapThreshold = options.heapThreshold ?? 64;
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;
  const stride = maxId + 1;
  const tokens = new Array<string>(stride).fill("");
  for (const [token, id] of vocab) tokens[id] = token;

  const byteSymbols = bytesToUnicode();
  const byteIds = new Int32Array(256);
  const byteEndIds = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    byteIds[b] = lookup(vocab, byteSymbols[b], "byte symbol");
    byteEndIds[b] = lookup(vocab, byteSymbols[b] + endOfWord, "byte symbol");
  }

  // (left id, right id) -> rank * stride + mergedId
  const pairs: Array<[number, number, number]> = [];
  merges.forEach(([left, right], rank) => {
    const l = vocab.get(left);
    const r = vocab.get(right);
    const merged = vocab.get(left + right);
    if (l === undefined || r === undefined || merged === undefined) return; // unusable merge
    pairs.push([l, r, rank * stride + merged]);
  });
  const ranks = createPairTable(pairs, stride);

  const pairLookup = ranks.get;
  const encoder = new TextEncoder();
  const cache = new Map<string, readonly number[]>();

  function encodeWordUncached(word: string): number[] {
    const bytes = encoder.encode(word);
    const n = bytes.length;
    if (n === 0) return [];
    const ids = new Array<number>(n);
    for (let i = 0; i < n - 1; i++) ids[i] = byteIds[bytes[i]];
    ids[n - 1] = byteEndIds[bytes[n - 1]];
    if (n > heapThreshold) return mergeWithHeap(ids, pairLookup, stride);
    let length = n;
    while (length > 1) {
      let best = Number.POSITIVE_INFINITY;
      let bestLeft = -1;
      let bestRight = -1;
      let bestMerged = -1;
      for (let i = 0; i < length - 1; i++) {
        const packed = ranks.get(ids[i], ids[i + 1]);
        if (packed !== undefined && packed < best) {
          best = packed;
          bestLeft = ids[i];
          bestRight = ids[i + 1];
        }
      }
      if (bestLeft < 0) break;
      bestMerged = best % stride;
      let out = 0;
      for (let i = 0; i < length; i++) {
        if (i < length - 1 && ids[i] === bestLeft && ids[i + 1] === bestRight) {
          ids[out++] = bestMerged;
          i++;
        } else {
          ids[out++] = ids[i];
        }
      }
      length = out;
    }
    ids.length = length;
    return ids;
  }

  function encodeWord(word: string): readonly number[] {
    const hit = cache.get(word);
    if (hit) return hit;
    const ids = encodeWordUncached(word);
    if (cacheLimit > 0 && word.length <= MAX_CACHED_WORD) {
      if (cache.size >= cacheLimit) cache.clear();
      cache.set(word, ids);
    }
    return ids;
  }

  return { vocab, tokens, encodeWord, encodeWordUncached, cacheSize: () => cache.size };
}

function lookup(vocab: ReadonlyMap<string, number>, token: string, what: string): number {
  const id = vocab.get(token);
  if (id === undefined) {
    throw new ClipEdgeError(
      "invalid_input",
      `tokenizer vocab: missing ${what} ${JSON.stringify(token)} (vocab has ${vocab.size} entries)`,
    );
  }
  return id;
}
