/**
 * The ONLY place the worker imports onnxruntime-web and its WebAssembly binary.
 * Importing this module has no side effects; call `createWorkerOrtRuntime()`.
 */

import * as ort from "onnxruntime-web/wasm";
// A relative path: wrangler resolves .wasm imports as files, not through package exports.
import wasmModule from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import {
  createOrtRuntime,
  type OrtRuntime,
  type OrtRuntimeOptions,
  type OrtWebLike,
} from "./ort-runtime.ts";

/** The isolate's runtime; `maxHeapBytes` caps the WASM heap (MEMORY_BUDGET_MB). */
export function createWorkerOrtRuntime(
  options: Pick<OrtRuntimeOptions, "maxHeapBytes"> = {},
): OrtRuntime {
  return createOrtRuntime({ ort: ort as unknown as OrtWebLike, wasmModule, ...options });
}
