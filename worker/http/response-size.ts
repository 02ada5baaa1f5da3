/**
 * What one float of a tensor answer costs in each format, for the MAX_OUTPUT_BYTES bound
 * (checked before any encoding, so estimated). Files hold the bytes of the dtype; base64
 * 4/3 of that; JSON numbers are written by `JSON.stringify` in shortest round-trip form:
 * a float32 widened to double takes ~19.5 characters with its comma (up to ~23 for tiny
 * values), a float16 ~13.5 (measured over random values in [-2, 2]).
 */
import type { TensorFormat } from "../../conditioning/formats/serialize-tensors.ts";
import type { OutputFloatDtype } from "../../conditioning/formats/tensor-bytes.ts";

const JSON_BYTES: Record<OutputFloatDtype, number> = { float32: 21, float16: 15 };
const DTYPE_BYTES: Record<OutputFloatDtype, number> = { float32: 4, float16: 2 };

export function bytesPerValue(format: TensorFormat, dtype: OutputFloatDtype): number {
  if (format === "json") return JSON_BYTES[dtype];
  if (format === "base64") return (DTYPE_BYTES[dtype] * 4) / 3;
  return DTYPE_BYTES[dtype];
}
