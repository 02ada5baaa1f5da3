import { ClipEdgeError } from "../errors.ts";
import { fromBFloat16Array, fromFloat16Array } from "./float16.ts";

/**
 * safetensors container: u64 LE header length, JSON header
 * ({name: {dtype, shape, data_offsets}}, optional __metadata__), then raw LE data.
 * Read and write, runtime-agnostic (bytes in, bytes out).
 */
export type SafetensorsDtype =
  | "F32"
  | "F16"
  | "BF16"
  | "I32"
  | "I64"
  | "U8"
  | "I8"
  | "BOOL"
  | "F64";

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw little-endian bytes of the tensor (a view into the file, not a copy). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsEntry>;
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  I8: 1,
  BOOL: 1,
};

export function parseSafetensors(data: Uint8Array, label = "safetensors"): SafetensorsFile {
  if (data.byteLength < 8) {
    throw new ClipEdgeError(
      "malformed",
      `${label}: ${data.byteLength} bytes is too short for a header`,
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > data.byteLength - 8 || headerLength > 100_000_000) {
    throw new ClipEdgeError(
      "malformed",
      `${label}: header length ${headerLength} exceeds file size ${data.byteLength}`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(data.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new ClipEdgeError("malformed", `${label}: header is not valid JSON`, { cause: error });
  }
  const start = 8 + headerLength;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as {
      dtype: SafetensorsDtype;
      shape: number[];
      data_offsets: [number, number];
    };
    const size = DTYPE_BYTES[info.dtype];
    if (!size)
      throw new ClipEdgeError("unsupported", `${label}: tensor ${name} has dtype ${info.dtype}`);
    const [from, to] = info.data_offsets;
    const count = info.shape.reduce((a, b) => a * b, 1);
    if (to - from !== count * size || start + to > data.byteLength) {
      throw new ClipEdgeError(
        "malformed",
        `${label}: tensor ${name} [${info.shape}] ${info.dtype} has offsets ${from}..${to} inconsistent with its shape or the file size`,
      );
    }
    tensors.set(name, {
      dtype: info.dtype,
      shape: info.shape,
      bytes: data.subarray(start + from, start + to),
    });
  }
  return { metadata, tensors };
}

function aligned(bytes: Uint8Array, alignment: number): Uint8Array {
  return bytes.byteOffset % alignment === 0 ? bytes : bytes.slice();
}

/** Decodes F32/F16/BF16/F64 tensors to Float32Array (copy only when needed). */
export function tensorToFloat32(entry: SafetensorsEntry, name = "tensor"): Float32Array {
  const b = entry.bytes;
  switch (entry.dtype) {
    case "F32": {
      const a = aligned(b, 4);
      return new Float32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    }
    case "F16": {
      const a = aligned(b, 2);
      return fromFloat16Array(new Uint16Array(a.buffer, a.byteOffset, a.byteLength / 2));
    }
    case "BF16": {
      const a = aligned(b, 2);
      return fromBFloat16Array(new Uint16Array(a.buffer, a.byteOffset, a.byteLength / 2));
    }
    case "F64": {
      const a = aligned(b, 8);
      return Float32Array.from(new Float64Array(a.buffer, a.byteOffset, a.byteLength / 8));
    }
    default:
      throw new ClipEdgeError("unsupported", `${name}: dtype ${entry.dtype} is not a float type`);
  }
}

export function tensorToInt32(entry: SafetensorsEntry, name = "tensor"): Int32Array {
  const b = entry.bytes;
  if (entry.dtype === "I32") {
    const a = aligned(b, 4);
    return new Int32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  }
  if (entry.dtype === "I64") {
    const a = aligned(b, 8);
    return Int32Array.from(new BigInt64Array(a.buffer, a.byteOffset, a.byteLength / 8), Number);
  }
  throw new ClipEdgeError("unsupported", `${name}: dtype ${entry.dtype} is not an integer type`);
}

export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
}

/** Serialises tensors (in the given order) with a header padded by spaces to a multiple of 8. */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (bytes.byteLength !== count * DTYPE_BYTES[t.dtype]) {
      throw new ClipEdgeError(
        "invalid_input",
        `safetensors: tensor ${name} has ${bytes.byteLength} bytes, expected ${count * DTYPE_BYTES[t.dtype]} for ${t.dtype} [${t.shape}]`,
      );
    }
    header[name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + bytes.byteLength],
    };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (new TextEncoder().encode(json).byteLength % 8)) % 8;
  json += " ".repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
