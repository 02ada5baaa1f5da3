import { ClipEdgeError } from "../../conditioning/errors.ts";
import {
  type AdaptedSession,
  adaptOrtSession,
  type OrtModuleLike,
  type OrtSessionLike,
} from "./adapt-session.ts";

export interface OrtNodeSessionOptions {
  /** e.g. ["cpu"] (default) or ["cuda", "cpu"]; passed through to onnxruntime-node. */
  executionProviders?: readonly (string | { name: string; [key: string]: unknown })[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  executionMode?: "sequential" | "parallel";
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  label?: string;
}

/**
 * Creates an onnxruntime-node session from ONNX bytes or a file path.
 * onnxruntime-node is imported lazily so that modules importing this file do
 * not load the native binding until a session is requested.
 */
export async function createOrtNodeSession(
  model: Uint8Array | string,
  options: OrtNodeSessionOptions = {},
): Promise<AdaptedSession> {
  const label = options.label ?? (typeof model === "string" ? model : "onnx model");
  let ort: typeof import("onnxruntime-node");
  try {
    ort = await import("onnxruntime-node");
  } catch (error) {
    throw new ClipEdgeError(
      "unavailable",
      `onnxruntime-node is not installed or failed to load: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const sessionOptions = {
    executionProviders: (options.executionProviders ?? ["cpu"]) as string[],
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    enableCpuMemArena: options.enableCpuMemArena ?? true,
    enableMemPattern: options.enableMemPattern ?? true,
    executionMode: options.executionMode ?? "sequential",
    logSeverityLevel: options.logSeverityLevel ?? 3,
    ...(options.intraOpNumThreads !== undefined
      ? { intraOpNumThreads: options.intraOpNumThreads }
      : {}),
    ...(options.interOpNumThreads !== undefined
      ? { interOpNumThreads: options.interOpNumThreads }
      : {}),
  };
  let session: import("onnxruntime-node").InferenceSession;
  try {
    session =
      typeof model === "string"
        ? await ort.InferenceSession.create(model, sessionOptions)
        : await ort.InferenceSession.create(model, sessionOptions);
  } catch (error) {
    throw new ClipEdgeError(
      "unavailable",
      `${label}: onnxruntime-node could not load the graph: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return adaptOrtSession(
    ort as unknown as OrtModuleLike,
    session as unknown as OrtSessionLike,
    `${label} (onnxruntime-node)`,
  );
}
