/**
 * The only view of an inference runtime the conditioning core has. The runtime
 * (worker: onnxruntime-web; origin/CLI: onnxruntime-node or -web) adapts its
 * session to this shape. onnxruntime's own Tensor and InferenceSession satisfy
 * it structurally, so adapters are thin.
 */
export type TensorData = Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;

export type TensorType = "float32" | "float16" | "int32" | "int64" | "uint8" | "bool";

export interface TensorLike {
  readonly type: TensorType | string;
  readonly data: TensorData | unknown;
  readonly dims: readonly number[];
}

/** Creates tensors in the runtime's own class (ort.Tensor). */
export type TensorFactory = (
  type: TensorType,
  data: TensorData,
  dims: readonly number[],
) => TensorLike;

export interface InferenceSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph. `fetches` limits which outputs are computed/returned. */
  run(
    feeds: Record<string, TensorLike>,
    fetches?: readonly string[],
  ): Promise<Record<string, TensorLike>>;
}
