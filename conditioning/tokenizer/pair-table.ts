/**
 * Merge ranks keyed on pairs of token ids: an open-addressing hash table over typed arrays
 * (no per-entry objects, no string keys). Value = `rank * stride + mergedId`, one number that
 * orders by rank and carries the merged token.
 */
export interface PairTable {
  get(left: number, right: number): number | undefined;
  readonly size: number;
}

export function createPairTable(
  entries: Iterable<readonly [left: number, right: number, value: number]>,
  stride: number,
): PairTable {
  const list = [...entries];
  if (stride * stride >= 2 ** 32) return createMapTable(list, stride);
  let capacity = 16;
  while (capacity < list.length * 2) capacity *= 2;
  const mask = capacity - 1;
  const keys = new Uint32Array(capacity); // key + 1; 0 = empty slot
  const values = new Float64Array(capacity);
  const slot = (key: number) => Math.imul(key ^ (key >>> 15), 0x2c1b3c6d) & mask;
  let size = 0;
  for (const [left, right, value] of list) {
    const key = left * stride + right + 1;
    let i = slot(key);
    while (keys[i] !== 0 && keys[i] !== key) i = (i + 1) & mask;
    if (keys[i] === key) continue; // first (lowest-rank) entry wins
    keys[i] = key;
    values[i] = value;
    size++;
  }
  return {
    size,
    get(left, right) {
      const key = left * stride + right + 1;
      let i = slot(key);
      for (;;) {
        const k = keys[i];
        if (k === key) return values[i];
        if (k === 0) return undefined;
        i = (i + 1) & mask;
      }
    },
  };
}

function createMapTable(
  list: ReadonlyArray<readonly [number, number, number]>,
  stride: number,
): PairTable {
  const map = new Map<number, number>();
  for (const [left, right, value] of list) {
    const key = left * stride + right;
    if (!map.has(key)) map.set(key, value);
  }
  return { size: map.size, get: (left, right) => map.get(left * stride + right) };
}
