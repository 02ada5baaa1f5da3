import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { ModelDef } from "../onnx/onnx-proto.ts";
import { encodeModel } from "../onnx/onnx-proto.ts";
import { concatEncoded } from "../onnx/protobuf.ts";
import type { AdaptedSession } from "../runtime/adapt-session.ts";
import { createOrtNodeSession } from "../runtime/ort-node-session.ts";
import { createOrtWebSession } from "../runtime/ort-web-session.ts";

export type SessionOpener = (model: ModelDef, label: string) => Promise<AdaptedSession>;

/**
 * Opens an in-memory graph for prepare-time measurements: onnxruntime-node
 * when it loads (about 3x faster than WASM on the reference runs), else
 * onnxruntime-web. Both run the same CPU kernels' semantics; the guard's
 * numbers are recomputed by `verify` with the bundle as the edge runs it.
 */
export const openMeasurementSession: SessionOpener = async (model, label) => {
  const bytes = concatEncoded(encodeModel(model));
  try {
    return await createOrtNodeSession(bytes, { label });
  } catch (error) {
    if (!(error instanceof ClipEdgeError) || error.code !== "unavailable") throw error;
    return createOrtWebSession(bytes, { label });
  }
};
