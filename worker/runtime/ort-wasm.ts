/**
 * The ONLY place the worker imports onnxruntime-web and its WebAssembly binary.
 * Importing this module has no side effects; call `createWorkerOrtRuntime()`.
 */

import * as ort from "onnxruntime-web/wasm";
// A relative path: wrangler resolves .wasm imports as files, not through package exports.
import wasmModule from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import { createOrtRuntime, type OrtRuntime, type OrtWebLike } from "./ort-runtime.ts";

export function createWorkerOrtRuntime(): OrtRuntime {
  return createOrtRuntime({ ort: ort as unknown as OrtWebLike, wasmModule });
}
