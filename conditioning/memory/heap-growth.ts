/**
 * Tight growth of onnxruntime-web's WebAssembly heap.
 *
 * WASM memory never shrinks, so every byte the heap grows by is paid for the
 * isolate's lifetime. When emscripten (onnxruntime-web 1.30's
 * `emscripten_resize_heap`) needs `requested` bytes it asks `memory.grow` for
 * max(requested, old * 1.2) first, then old * 1.1, then old * 1.05 (each
 * rounded up to 64 KiB pages), and takes the first that succeeds: a heap that
 * needs 1 MB more past 100 MB grows by 20 MB. This wraps the Memory's `grow`
 * so that the two over-grown attempts (sizes exactly old * 1.2 and old * 1.1)
 * are declined once each; emscripten then settles for max(requested, old * 1.05).
 * The third attempt is never declined, and attempts of any other size pass
 * through, so if emscripten's factors change nothing is declined (no gain,
 * no failure). Measured in bench (`tight-heap` lever) and docs/performance.md.
 *
 * With `maxBytes` (the worker's MEMORY_BUDGET_MB), every growth past it is
 * declined too: the heap never exceeds the budget. onnxruntime-web then fails
 * that allocation with `std::bad_alloc` from `session.run`, and the session
 * stays usable (a smaller run succeeds: test/worker/runtime), so the caller can
 * retry with fewer rows or answer 503 `over_capacity`.
 */

export interface HeapGrowthStats {
  /** grow() calls declined (an over-grown attempt emscripten then retries smaller). */
  declined: number;
  /** grow() calls passed to the engine. */
  grown: number;
  /** grow() calls declined because the heap would pass `maxBytes`. */
  capped: number;
}

export interface HeapGrowthOptions {
  /** Largest heap allowed, in bytes (read at every growth; undefined or 0: no cap). */
  maxBytes?: () => number | undefined;
}

const PAGE = 65536;

/** Finds a WebAssembly.Memory in an imports/exports object (two levels deep). */
export function findWasmMemory(value: unknown, depth = 0): WebAssembly.Memory | undefined {
  if (value instanceof WebAssembly.Memory) return value;
  if (!value || typeof value !== "object" || depth > 2) return undefined;
  for (const v of Object.values(value as Record<string, unknown>)) {
    const found = findWasmMemory(v, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const installed = new WeakMap<WebAssembly.Memory, HeapGrowthStats>();

/** The tight policy's counters for `memory`, or undefined when it is not installed there. */
export function heapGrowthStats(memory: WebAssembly.Memory): HeapGrowthStats | undefined {
  return installed.get(memory);
}

/** Installs the tight policy on `memory` (once; later calls return the same stats). */
export function installTightHeapGrowth(
  memory: WebAssembly.Memory,
  options: HeapGrowthOptions = {},
): HeapGrowthStats {
  const existing = installed.get(memory);
  if (existing) return existing;
  const stats: HeapGrowthStats = { declined: 0, grown: 0, capped: 0 };
  const grow = memory.grow.bind(memory);
  // Declines so far at the current size: [] | [1.2] | [1.2, 1.1]; reset when the heap grows.
  let declinedAt = -1;
  let declines = 0;
  const over = (bytes: number, factor: number) => PAGE * Math.ceil((bytes * factor) / PAGE);
  Object.defineProperty(memory, "grow", {
    configurable: true,
    value(deltaPages: number): number {
      const current = memory.buffer.byteLength;
      if (declinedAt !== current) {
        declinedAt = current;
        declines = 0;
      }
      const next = current + deltaPages * PAGE;
      const cap = options.maxBytes?.();
      if (cap && next > cap) {
        stats.capped++;
        throw new RangeError(
          `WebAssembly heap: declined growth to ${next} bytes (over the ${cap}-byte budget)`,
        );
      }
      const decline =
        (declines === 0 && next === over(current, 1.2)) ||
        (declines === 1 && next === over(current, 1.1));
      if (decline) {
        declines++;
        stats.declined++;
        throw new RangeError(
          `WebAssembly heap: declined growth to ${next} bytes (over-growth); retry with less`,
        );
      }
      stats.grown++;
      return grow(deltaPages);
    },
  });
  installed.set(memory, stats);
  return stats;
}
