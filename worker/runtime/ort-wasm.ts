/**
 * The ONLY place the worker imports onnxruntime-web and its WebAssembly binary.
 * Importing this module has no side effects; call `createWorkerOrtRuntime()`.
 */

import wasmModule from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import * as ort from "onnxruntime-web/wasm";
import { createOrtRuntime, type OrtRuntime, type OrtWebLike } from "./ort-runtime.ts";

export function createWorkerOrtRuntime(): OrtRuntime {
  return createOrtRuntime({ ort: ort as unknown as OrtWebLike, wasmModule });
}
