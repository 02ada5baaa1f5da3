/**
 * Tensors as an HTTP response. Files (safetensors, npy, npz, raw) are the bytes of the
 * core's `serializeTensors`, the same the CLI writes; json/base64 are a JSON API answer
 * (`{ ...fields, tensors: { name: { dtype, shape, data } } }`) whose tensors come from the
 * same encoders. Every format carries `X-Tensor-Shapes` / `X-Tensor-Dtype` headers.
 */
import { tensorsToBase64, tensorsToJson } from "../../conditioning/formats/json-tensors.ts";
import {
  serializeTensors,
  type TensorFormat,
} from "../../conditioning/formats/serialize-tensors.ts";
import type { FloatTensor, OutputFloatDtype } from "../../conditioning/formats/tensor-bytes.ts";

export interface TensorResponseOptions {
  format: TensorFormat;
  dtype: OutputFloatDtype;
  /** json/base64: the fields sent next to `tensors`. */
  fields: Record<string, unknown>;
  /** Files: safetensors `__metadata__` (raw: the index's `metadata`), every value a string. */
  metadata: Record<string, string>;
  /** npy holds one tensor: this one. */
  npyTensor: string;
  /** Headers for every format (model id, hash, token counts). */
  headers: Record<string, string>;
}

function shapeHeader(tensors: Record<string, FloatTensor>): string {
  return Object.entries(tensors)
    .map(([name, t]) => `${name}=${t.shape.join("x")}`)
    .join(", ");
}

export function tensorResponse(
  tensors: Record<string, FloatTensor>,
  options: TensorResponseOptions,
): Response {
  const { format, dtype } = options;
  const headers = new Headers(options.headers);
  headers.set("X-Tensor-Shapes", shapeHeader(tensors));
  headers.set("X-Tensor-Dtype", dtype);
  if (format === "json" || format === "base64") {
    const encoded =
      format === "json" ? tensorsToJson(tensors, { dtype }) : tensorsToBase64(tensors, dtype);
    headers.set("Content-Type", "application/json; charset=UTF-8");
    return new Response(JSON.stringify({ ...options.fields, tensors: encoded }), { headers });
  }
  const file = serializeTensors(tensors, {
    format,
    dtype,
    metadata: options.metadata,
    tensor: options.npyTensor,
  });
  const name = format === "npy" ? options.npyTensor : "conditioning";
  headers.set("Content-Type", file.contentType);
  headers.set("Content-Disposition", `attachment; filename="${name}${file.extension}"`);
  if (format === "npy") {
    headers.set("X-Tensor-Name", options.npyTensor);
    headers.set("X-Tensor-Shape", tensors[options.npyTensor].shape.join(","));
  }
  if (file.index !== undefined) headers.set("X-Tensor-Index", file.index);
  return new Response(file.bytes as Uint8Array<ArrayBuffer>, { headers });
}
