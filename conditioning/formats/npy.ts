import { ClipEdgeError } from "../errors.ts";
import {
  elementCount,
  type FloatTensor,
  floatBytes,
  type OutputFloatDtype,
} from "./tensor-bytes.ts";

/**
 * NumPy .npy format version 1.0: magic "\x93NUMPY", version 1.0, u16 LE header length,
 * an ASCII dict header padded with spaces and ending in "\n" so that the data starts
 * at a multiple of 64, then C-order little-endian data ('<f4' / '<f2').
 */
export function serializeNpy(tensor: FloatTensor, dtype: OutputFloatDtype = "float32"): Uint8Array {
  if (elementCount(tensor.shape) !== tensor.data.length) {
    throw new ClipEdgeError(
      "invalid_input",
      `npy: shape [${tensor.shape}] needs ${elementCount(tensor.shape)} values, got ${tensor.data.length}`,
    );
  }
  const descr = dtype === "float16" ? "<f2" : "<f4";
  const shape =
    tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += `${" ".repeat((64 - (unpadded % 64)) % 64)}\n`;
  if (header.length > 65535)
    throw new ClipEdgeError("invalid_input", "npy: header too long for v1.0");
  const data = floatBytes(tensor.data, dtype);
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}
