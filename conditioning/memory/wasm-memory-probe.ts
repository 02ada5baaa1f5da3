/**
 * Finds onnxruntime-web's WebAssembly.Memory. onnxruntime-web keeps its
 * emscripten module private, so the probe wraps `WebAssembly.instantiate`
 * while the runtime initialises and keeps the Memory found among the imports
 * (threaded builds import a shared memory) or the instance's exports.
 * `bytes()` is then `memory.buffer.byteLength`, the committed WASM heap,
 * which never shrinks: after a run it is the peak.
 */
import { findWasmMemory } from "./heap-growth.ts";

export interface WasmMemoryProbe {
  /** Current byte length of the captured memory; undefined before the runtime starts. */
  bytes(): number | undefined;
  /** Restores WebAssembly.instantiate. */
  uninstall(): void;
}

export function installWasmMemoryProbe(
  wasm: { instantiate: typeof WebAssembly.instantiate } = WebAssembly,
  /** Called once with the memory before the runtime instantiates (e.g. a growth policy). */
  onMemory?: (memory: WebAssembly.Memory) => void,
): WasmMemoryProbe {
  let memory: WebAssembly.Memory | undefined;
  const original = wasm.instantiate;
  const patched = (async (source: unknown, imports?: WebAssembly.Imports) => {
    if (!memory) {
      memory = findWasmMemory(imports);
      if (memory) onMemory?.(memory);
    }
    const result = (await (original as (s: unknown, i?: unknown) => Promise<unknown>)(
      source,
      imports,
    )) as { instance: WebAssembly.Instance } | WebAssembly.Instance;
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    memory = memory ?? findWasmMemory(instance.exports);
    return result;
  }) as typeof WebAssembly.instantiate;
  wasm.instantiate = patched;
  return {
    bytes: () => memory?.buffer.byteLength,
    uninstall() {
      if (wasm.instantiate === patched) wasm.instantiate = original;
    },
  };
}
