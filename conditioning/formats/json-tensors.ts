import { encodeBase64 } from "./base64.ts";
import { fromFloat16Array } from "./float16.ts";
import { type FloatTensor, floatBytes, type OutputFloatDtype } from "./tensor-bytes.ts";

export type JsonLayout = "flat" | "nested";

export interface JsonTensor {
  dtype: OutputFloatDtype;
  shape: number[];
  /** flat: row-major numbers; nested: nested arrays; base64: LE bytes as base64. */
  data: number[] | unknown[] | string;
  encoding?: "base64";
}

/** Values as the chosen dtype would store them (float16 rounding applied). */
function values(data: Float32Array, dtype: OutputFloatDtype): number[] {
  if (dtype === "float32") return Array.from(data);
  const bytes = floatBytes(data, "float16");
  return Array.from(
    fromFloat16Array(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)),
  );
}

function nest(flat: number[], shape: readonly number[], offset = 0): unknown[] {
  if (shape.length <= 1) return flat.slice(offset, offset + (shape[0] ?? flat.length));
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < shape[0]; i++) out.push(nest(flat, shape.slice(1), offset + i * inner));
  return out;
}

/**
 * JSON tensors: `{ name: { dtype, shape, data } }`. Default `flat` (row-major numbers +
 * shape, compact and unambiguous); `nested` gives nested arrays (`torch.tensor(x)` ready).
 */
export function tensorsToJson(
  tensors: Record<string, FloatTensor>,
  options: { dtype?: OutputFloatDtype; layout?: JsonLayout } = {},
): Record<string, JsonTensor> {
  const dtype = options.dtype ?? "float32";
  const out: Record<string, JsonTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const flat = values(t.data, dtype);
    out[name] = {
      dtype,
      shape: [...t.shape],
      data: options.layout === "nested" ? nest(flat, t.shape) : flat,
    };
  }
  return out;
}

/** Like `tensorsToJson` with `data` the base64 of the little-endian bytes. */
export function tensorsToBase64(
  tensors: Record<string, FloatTensor>,
  dtype: OutputFloatDtype = "float32",
): Record<string, JsonTensor> {
  const out: Record<string, JsonTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    out[name] = {
      dtype,
      shape: [...t.shape],
      encoding: "base64",
      data: encodeBase64(floatBytes(t.data, dtype)),
    };
  }
  return out;
}
