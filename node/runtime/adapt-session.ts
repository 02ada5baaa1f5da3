import type {
  InferenceSessionLike,
  TensorData,
  TensorFactory,
  TensorLike,
  TensorType,
} from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/** The part of onnxruntime's API (web or node) the adapters use. */
export interface OrtModuleLike {
  Tensor: new (type: TensorType, data: TensorData, dims: readonly number[]) => TensorLike;
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    feeds: Record<string, TensorLike>,
    fetches?: readonly string[],
  ): Promise<Record<string, TensorLike>>;
  release?(): Promise<void>;
}

export interface AdaptedSession extends InferenceSessionLike {
  /** Creates a tensor in this runtime's own class. */
  readonly tensor: TensorFactory;
  release(): Promise<void>;
}

/** Wraps an onnxruntime session as InferenceSessionLike, converting plain tensors to ort.Tensor. */
export function adaptOrtSession(
  ort: OrtModuleLike,
  session: OrtSessionLike,
  label: string,
): AdaptedSession {
  const tensor: TensorFactory = (type, data, dims) => new ort.Tensor(type, data, dims);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    tensor,
    async run(feeds, fetches) {
      const converted: Record<string, TensorLike> = {};
      for (const [name, value] of Object.entries(feeds)) {
        const isOrtTensor = (value as object) instanceof (ort.Tensor as unknown as typeof Object);
        converted[name] = isOrtTensor
          ? value
          : tensor(value.type as TensorType, value.data as TensorData, value.dims);
      }
      try {
        return await (fetches
          ? session.run(converted, fetches as string[])
          : session.run(converted));
      } catch (error) {
        const shapes = Object.entries(feeds)
          .map(([n, t]) => `${n} ${t.type}[${t.dims.join(",")}]`)
          .join(", ");
        throw new ClipEdgeError(
          "internal",
          `${label}: inference failed for inputs ${shapes}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    },
    async release() {
      await session.release?.();
    },
  };
}
