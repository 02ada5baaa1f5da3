/**
 * BPE merging for long words in O(n log n): symbols in a linked list, candidate pairs in a
 * binary heap ordered by (merge rank, position). Popping the lowest rank leftmost-first and
 * skipping stale entries merges exactly like the reference loop (merge every occurrence of
 * the best pair left to right, repeat), because a pair created by a merge always has a
 * higher rank than the merge that created its new symbol (its token is built from it).
 */
export type PairLookup = (left: number, right: number) => number | undefined;

/**
 * Merges `ids` in place order; `lookup` returns `rank * stride + mergedId` for a mergeable
 * pair. Returns the merged ids.
 */
export function mergeWithHeap(
  ids: readonly number[],
  lookup: PairLookup,
  stride: number,
): number[] {
  const n = ids.length;
  const sym = Int32Array.from(ids);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  // heap entries: packed rank (float64) + left position; validated on pop.
  let size = 0;
  let keys = new Float64Array(Math.max(16, n));
  let pos = new Int32Array(Math.max(16, n));
  let lefts = new Int32Array(Math.max(16, n));
  let rights = new Int32Array(Math.max(16, n));
  const less = (a: number, b: number) =>
    keys[a] < keys[b] || (keys[a] === keys[b] && pos[a] < pos[b]);
  const swap = (a: number, b: number) => {
    [keys[a], keys[b]] = [keys[b], keys[a]];
    [pos[a], pos[b]] = [pos[b], pos[a]];
    [lefts[a], lefts[b]] = [lefts[b], lefts[a]];
    [rights[a], rights[b]] = [rights[b], rights[a]];
  };
  const push = (i: number) => {
    if (i < 0 || next[i] < 0) return;
    const packed = lookup(sym[i], sym[next[i]]);
    if (packed === undefined) return;
    if (size === keys.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      keys = grow(keys);
      pos = grow(pos);
      lefts = grow(lefts);
      rights = grow(rights);
    }
    let c = size++;
    keys[c] = packed;
    pos[c] = i;
    lefts[c] = sym[i];
    rights[c] = sym[next[i]];
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!less(c, p)) break;
      swap(c, p);
      c = p;
    }
  };
  const pop = () => {
    size--;
    swap(0, size);
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      const r = l + 1;
      let m = c;
      if (l < size && less(l, m)) m = l;
      if (r < size && less(r, m)) m = r;
      if (m === c) break;
      swap(c, m);
      c = m;
    }
  };
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n - 1; i++) push(i);
  while (size > 0) {
    const i = pos[0];
    const key = keys[0];
    const left = lefts[0];
    const right = rights[0];
    pop();
    const j = next[i];
    if (!alive[i] || j < 0 || sym[i] !== left || sym[j] !== right) continue; // stale
    sym[i] = key % stride;
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    push(prev[i]);
    push(i);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
  return out;
}
