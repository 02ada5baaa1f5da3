import * as ort from "onnxruntime-web";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import {
  type AdaptedSession,
  adaptOrtSession,
  type OrtModuleLike,
  type OrtSessionLike,
} from "./adapt-session.ts";

export interface OrtWebSessionOptions {
  /** WASM threads (default 1: Workers and tests have no SharedArrayBuffer threads). */
  numThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** External data files referenced by the graph (path as written in the graph). */
  externalData?: { path: string; data: Uint8Array }[];
  /** Label used in error messages (e.g. the file name). */
  label?: string;
}

/**
 * Creates an onnxruntime-web (WASM backend) session from ONNX bytes, in Node.
 * Sets ort.env.wasm.numThreads / proxy on the imported module at call time.
 */
export async function createOrtWebSession(
  bytes: Uint8Array,
  options: OrtWebSessionOptions = {},
): Promise<AdaptedSession> {
  const label = options.label ?? "onnx model";
  ort.env.wasm.numThreads = options.numThreads ?? 1;
  ort.env.wasm.proxy = false;
  if (options.logSeverityLevel !== undefined) ort.env.logLevel = "error";
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
      enableCpuMemArena: options.enableCpuMemArena ?? true,
      enableMemPattern: options.enableMemPattern ?? true,
      logSeverityLevel: options.logSeverityLevel ?? 3,
      ...(options.externalData ? { externalData: options.externalData } : {}),
    });
  } catch (error) {
    throw new ClipEdgeError(
      "unavailable",
      `${label}: onnxruntime-web could not load the graph (${bytes.byteLength} bytes): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return adaptOrtSession(
    ort as unknown as OrtModuleLike,
    session as unknown as OrtSessionLike,
    `${label} (onnxruntime-web)`,
  );
}
