import { ClipEdgeError } from "../errors.ts";
import { type JsonLayout, tensorsToBase64, tensorsToJson } from "./json-tensors.ts";
import { serializeNpy } from "./npy.ts";
import { serializeNpz } from "./npz.ts";
import { serializeRaw } from "./raw.ts";
import { serializeSafetensors, type TensorToWrite } from "./safetensors.ts";
import { type FloatTensor, floatBytes, type OutputFloatDtype } from "./tensor-bytes.ts";

export type TensorFormat = "safetensors" | "npy" | "npz" | "raw" | "json" | "base64";

export const TENSOR_FORMATS: TensorFormat[] = [
  "safetensors",
  "npy",
  "npz",
  "raw",
  "json",
  "base64",
];

export interface SerializeOptions {
  format: TensorFormat;
  dtype?: OutputFloatDtype;
  /** String metadata (safetensors `__metadata__`; included as `metadata` in json/base64/raw). */
  metadata?: Record<string, string>;
  /** npy holds one tensor: which one (default: the only one, else prompt_embeds). */
  tensor?: string;
  /** json layout (default flat). */
  layout?: JsonLayout;
}

export interface SerializedTensors {
  bytes: Uint8Array;
  contentType: string;
  extension: string;
  /** raw only: the index as JSON text (also a good `X-Tensor-Index` header). */
  index?: string;
}

const encoder = new TextEncoder();

/** One entry point for every output format (see docs/conditioning.md). */
export function serializeTensors(
  tensors: Record<string, FloatTensor>,
  options: SerializeOptions,
): SerializedTensors {
  const dtype = options.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float16") {
    throw new ClipEdgeError(
      "invalid_request",
      `dtype must be float32 or float16, got ${JSON.stringify(dtype)}`,
    );
  }
  const metadata = options.metadata ?? {};
  switch (options.format) {
    case "safetensors": {
      const st = dtype === "float16" ? "F16" : "F32";
      const entries: Record<string, TensorToWrite> = {};
      for (const [name, t] of Object.entries(tensors)) {
        entries[name] = { dtype: st, shape: [...t.shape], data: floatBytes(t.data, dtype) };
      }
      return {
        bytes: serializeSafetensors(entries, { format: "pt", ...metadata }),
        contentType: "application/octet-stream",
        extension: ".safetensors",
      };
    }
    case "npy": {
      const names = Object.keys(tensors);
      const name = options.tensor ?? (names.length === 1 ? names[0] : "prompt_embeds");
      const tensor = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
      if (!tensor) {
        throw new ClipEdgeError(
          "invalid_request",
          `npy holds one tensor; ${name} is not among ${names.join(", ")} (use npz for all)`,
        );
      }
      return {
        bytes: serializeNpy(tensor, dtype),
        contentType: "application/octet-stream",
        extension: ".npy",
      };
    }
    case "npz":
      return {
        bytes: serializeNpz(tensors, dtype),
        contentType: "application/zip",
        extension: ".npz",
      };
    case "raw": {
      const raw = serializeRaw(tensors, dtype);
      return {
        bytes: raw.bytes,
        contentType: "application/octet-stream",
        extension: ".bin",
        index: JSON.stringify({ tensors: raw.index, metadata }),
      };
    }
    case "json":
    case "base64": {
      const body =
        options.format === "json"
          ? tensorsToJson(tensors, { dtype, layout: options.layout })
          : tensorsToBase64(tensors, dtype);
      return {
        bytes: encoder.encode(JSON.stringify({ tensors: body, metadata })),
        contentType: "application/json",
        extension: ".json",
      };
    }
    default:
      throw new ClipEdgeError(
        "invalid_request",
        `format must be one of ${TENSOR_FORMATS.join(", ")}, got ${JSON.stringify(options.format)}`,
      );
  }
}
