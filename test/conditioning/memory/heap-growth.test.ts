import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  findWasmMemory,
  installTightHeapGrowth,
} from "../../../conditioning/memory/heap-growth.ts";
import { repoRoot } from "../../helpers/fixtures.ts";

const PAGE = 65536;

/**
 * The resize loop of emscripten's `emscripten_resize_heap` as built into
 * onnxruntime-web 1.30 (ort-wasm-simd-threaded.mjs): try max(requested,
 * old * (1 + 0.2 / d)) for d = 1, 2, 4, rounded up to pages; first success wins.
 */
function emscriptenResize(memory: WebAssembly.Memory, requested: number): boolean {
  const old = memory.buffer.byteLength;
  if (requested <= old) return false;
  for (let d = 1; d <= 4; d *= 2) {
    let size = old * (1 + 0.2 / d);
    size = Math.min(size, requested + 100663296);
    const pages = (PAGE * Math.ceil(Math.max(requested, size) / PAGE) - old + PAGE - 1) / PAGE;
    try {
      memory.grow(pages | 0);
      return true;
    } catch {}
  }
  return false;
}

const memory = (pages: number) => new WebAssembly.Memory({ initial: pages, maximum: 8192 });

describe("tight WASM heap growth", () => {
  it("settles for max(requested, old * 1.05) instead of old * 1.2", () => {
    const plain = memory(1600); // 100 MiB
    const tight = memory(1600);
    const stats = installTightHeapGrowth(tight);
    const need = 100 * 2 ** 20 + 2 ** 20; // 1 MiB more
    expect(emscriptenResize(plain, need)).toBe(true);
    expect(emscriptenResize(tight, need)).toBe(true);
    expect(plain.buffer.byteLength).toBe(PAGE * Math.ceil((1600 * PAGE * 1.2) / PAGE));
    expect(tight.buffer.byteLength).toBe(PAGE * Math.ceil((1600 * PAGE * 1.05) / PAGE));
    expect(stats).toEqual({ declined: 2, grown: 1, capped: 0 });
  });

  it("grows exactly to a large request without declining it", () => {
    const tight = memory(256);
    const stats = installTightHeapGrowth(tight);
    const need = 64 * 2 ** 20; // far above old * 1.2
    expect(emscriptenResize(tight, need)).toBe(true);
    expect(tight.buffer.byteLength).toBe(need);
    expect(stats).toEqual({ declined: 0, grown: 1, capped: 0 });
  });

  it("never declines the last attempt (a request equal to old * 1.1 or old * 1.2)", () => {
    for (const factor of [1.1, 1.2]) {
      const tight = memory(1600);
      installTightHeapGrowth(tight);
      const need = PAGE * Math.ceil((1600 * PAGE * factor) / PAGE);
      expect(emscriptenResize(tight, need), `factor ${factor}`).toBe(true);
      expect(tight.buffer.byteLength).toBe(need);
    }
  });

  it("passes every other size through and installs once per memory", () => {
    const tight = memory(16);
    const stats = installTightHeapGrowth(tight);
    expect(installTightHeapGrowth(tight)).toBe(stats);
    tight.grow(3);
    expect(tight.buffer.byteLength).toBe(19 * PAGE);
    expect(stats.grown).toBe(1);
    expect(findWasmMemory({ a: { memory: tight } })).toBe(tight);
    expect(findWasmMemory({ a: {} })).toBeUndefined();
  });
});

describe("a heap cap (MEMORY_BUDGET_MB)", () => {
  it("declines every growth past the cap, and growth under it still happens", () => {
    let cap = 110 * 2 ** 20;
    const capped = memory(1600); // 100 MiB
    const stats = installTightHeapGrowth(capped, { maxBytes: () => cap });
    // 104 MiB needed: old * 1.05 = 105 MiB fits under 110 MiB.
    expect(emscriptenResize(capped, 104 * 2 ** 20)).toBe(true);
    const grown = capped.buffer.byteLength;
    expect(grown).toBeLessThanOrEqual(cap);
    const before = stats.capped;
    // 111 MiB needed: every attempt is over the cap; the heap stays where it was.
    expect(emscriptenResize(capped, 111 * 2 ** 20)).toBe(false);
    expect(capped.buffer.byteLength).toBe(grown);
    expect(stats.capped - before).toBe(3);
    // The cap is read at each growth: raised, the same request succeeds.
    cap = 0;
    expect(emscriptenResize(capped, 111 * 2 ** 20)).toBe(true);
  });
});

describe("the emscripten build this policy was written for", () => {
  it("onnxruntime-web's resize loop still tries old * 1.2, 1.1, 1.05 in turn", () => {
    // The same file worker/runtime/ort-wasm.ts bundles the .wasm beside.
    const glue = readFileSync(
      join(repoRoot, "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs"),
      "utf8",
    );
    // for(var d=1;4>=d;d*=2){var c=b*(1+.2/d); ... x.grow(c)
    expect(glue).toMatch(/for\(var (\w)=1;4>=\1;\1\*=2\)\{var \w=\w\*\(1\+\.2\/\1\)/);
  });
});
