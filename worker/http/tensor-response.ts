/**
 * Tensors as an HTTP response: JSON (`{ name: { dtype, shape, data } }`, flat
 * row-major), base64 (same with little-endian bytes), or the raw file
 * (safetensors, npy) with `Content-Type` and shape headers.
 */

import { toFloat16Array } from "../../conditioning/formats/float16.ts";
import { tensorsToBase64, tensorsToJson } from "../../conditioning/formats/json-tensors.ts";
import { serializeNpy } from "../../conditioning/formats/npy.ts";
import { serializeSafetensors } from "../../conditioning/formats/safetensors.ts";

export interface FloatTensorLike {
  shape: number[];
  data: Float32Array;
}

export type TensorFormat = "json" | "base64" | "safetensors" | "npy";
export type TensorDtype = "float32" | "float16";

export interface TensorResponseOptions {
  format: TensorFormat;
  dtype: TensorDtype;
  /** JSON fields sent next to `tensors` (json/base64) or as safetensors `__metadata__` strings. */
  meta: Record<string, unknown>;
  /** npy carries one tensor: this one. */
  npyTensor: string;
  /** Headers for every format (model id, hash, token counts). */
  headers: Record<string, string>;
}

function shapeHeader(tensors: Record<string, FloatTensorLike>): string {
  return Object.entries(tensors)
    .map(([name, t]) => `${name}=${t.shape.join("x")}`)
    .join(", ");
}

export function tensorResponse(
  tensors: Record<string, FloatTensorLike>,
  options: TensorResponseOptions,
): Response {
  const { format, dtype, meta } = options;
  const headers = new Headers(options.headers);
  headers.set("X-Tensor-Shapes", shapeHeader(tensors));
  headers.set("X-Tensor-Dtype", dtype);
  if (format === "json" || format === "base64") {
    const encoded =
      format === "json" ? tensorsToJson(tensors, { dtype }) : tensorsToBase64(tensors, dtype);
    headers.set("Content-Type", "application/json; charset=UTF-8");
    return new Response(JSON.stringify({ ...meta, tensors: encoded }), { headers });
  }
  if (format === "npy") {
    const tensor = tensors[options.npyTensor];
    headers.set("Content-Type", "application/octet-stream");
    headers.set("Content-Disposition", `attachment; filename="${options.npyTensor}.npy"`);
    headers.set("X-Tensor-Name", options.npyTensor);
    headers.set("X-Tensor-Shape", tensor.shape.join(","));
    return new Response(serializeNpy(tensor, dtype), { headers });
  }
  const toWrite = Object.fromEntries(
    Object.entries(tensors).map(([name, t]) => [
      name,
      dtype === "float16"
        ? { dtype: "F16" as const, shape: t.shape, data: toFloat16Array(t.data) }
        : { dtype: "F32" as const, shape: t.shape, data: t.data },
    ]),
  );
  const metadata = Object.fromEntries(
    Object.entries(meta).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  headers.set("Content-Type", "application/octet-stream");
  headers.set("Content-Disposition", 'attachment; filename="conditioning.safetensors"');
  return new Response(serializeSafetensors(toWrite, metadata), { headers });
}
