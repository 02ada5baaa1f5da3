import {
  elementCount,
  type FloatTensor,
  floatBytes,
  type OutputFloatDtype,
} from "./tensor-bytes.ts";

export interface RawIndexEntry {
  dtype: OutputFloatDtype;
  shape: number[];
  /** Byte offset in `bytes`. */
  offset: number;
  byteLength: number;
}

export interface RawTensors {
  /** Little-endian data of every tensor back to back, in `index` order. */
  bytes: Uint8Array;
  index: Record<string, RawIndexEntry>;
}

/** Raw little-endian f32/f16 with a JSON-able index giving each tensor's shape and place. */
export function serializeRaw(
  tensors: Record<string, FloatTensor>,
  dtype: OutputFloatDtype = "float32",
): RawTensors {
  const index: Record<string, RawIndexEntry> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = floatBytes(t.data, dtype);
    index[name] = { dtype, shape: [...t.shape], offset, byteLength: bytes.byteLength };
    if (elementCount(t.shape) * (dtype === "float16" ? 2 : 4) !== bytes.byteLength) {
      throw new Error(`raw: tensor ${name} shape [${t.shape}] does not match its data`);
    }
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  const out = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return { bytes: out, index };
}
