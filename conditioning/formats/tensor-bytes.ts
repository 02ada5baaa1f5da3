import { toFloat16Array } from "./float16.ts";

/** A dense row-major float tensor: what the conditioner returns and the serialisers take. */
export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export type OutputFloatDtype = "float32" | "float16";

/** Little-endian bytes of `data` in the requested dtype (copy; never aliases the input). */
export function floatBytes(data: Float32Array, dtype: OutputFloatDtype): Uint8Array {
  const typed = dtype === "float16" ? toFloat16Array(data) : new Float32Array(data);
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  if (!littleEndianHost()) {
    const size = dtype === "float16" ? 2 : 4;
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  }
  return bytes;
}

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
