/**
 * Row operations on [rows, seq, ...] tensors for the micro-batcher: concatenating
 * several callers' rows into one batch (right-padded along the sequence), taking a
 * caller's rows back out of a batch's outputs, and slicing / joining a caller's
 * own rows when its request runs in several parts.
 */
import type { TensorData, TensorFactory, TensorLike } from "../../conditioning/encoder/session.ts";

type TypedArray = Exclude<TensorData, never> & {
  length: number;
  set(source: ArrayLike<number | bigint>, offset?: number): void;
  subarray(begin: number, end?: number): TypedArray;
  slice(begin: number, end?: number): TypedArray;
};

function ctorOf(data: TypedArray): new (length: number) => TypedArray {
  return data.constructor as new (
    length: number,
  ) => TypedArray;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Concatenates [rows, seq, ...] tensors along rows, right-padding dim 1 with zeros to `seq`. */
export function concatRows(parts: TensorLike[], seq: number, tensor: TensorFactory): TensorLike {
  const first = parts[0];
  const rank = first.dims.length;
  const inner = product(first.dims.slice(2));
  const rows = parts.reduce((sum, p) => sum + p.dims[0], 0);
  const width = rank >= 2 ? seq * inner : 1;
  const out = new (ctorOf(first.data as TypedArray))(rows * width);
  let row = 0;
  for (const part of parts) {
    const data = part.data as TypedArray;
    const partWidth = rank >= 2 ? part.dims[1] * inner : 1;
    for (let r = 0; r < part.dims[0]; r++) {
      out.set(data.subarray(r * partWidth, (r + 1) * partWidth), (row + r) * width);
    }
    row += part.dims[0];
  }
  const dims = rank >= 2 ? [rows, seq, ...first.dims.slice(2)] : [rows];
  return tensor(first.type as never, out as TensorData, dims);
}

/** Takes `rows` rows from `offset`, cutting dim 1 back from `paddedSeq` to `seq` when it is the sequence. */
export function sliceRows(
  value: TensorLike,
  offset: number,
  rows: number,
  paddedSeq: number,
  seq: number,
  tensor: TensorFactory,
): TensorLike {
  const dims = value.dims;
  const data = value.data as TypedArray;
  const rowSize = product(dims.slice(1));
  const isSeq = dims.length >= 3 && dims[1] === paddedSeq;
  if (!isSeq) {
    const part = data.slice(offset * rowSize, (offset + rows) * rowSize);
    return tensor(value.type as never, part as TensorData, [rows, ...dims.slice(1)]);
  }
  const inner = product(dims.slice(2));
  const out = new (ctorOf(data))(rows * seq * inner);
  for (let r = 0; r < rows; r++) {
    const start = (offset + r) * rowSize;
    out.set(data.subarray(start, start + seq * inner), r * seq * inner);
  }
  return tensor(value.type as never, out as TensorData, [rows, seq, ...dims.slice(2)]);
}

/** A view of rows [from, from + count) of a feed (no copy; read by `concatRows`). */
export function viewRows(value: TensorLike, from: number, count: number): TensorLike {
  const rowSize = product(value.dims.slice(1));
  const data = (value.data as TypedArray).subarray(from * rowSize, (from + count) * rowSize);
  return { type: value.type, data, dims: [count, ...value.dims.slice(1)] };
}

/** Joins parts that hold consecutive rows of one tensor (same trailing dims) along dim 0. */
export function joinRows(parts: TensorLike[], tensor: TensorFactory): TensorLike {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  const rowSize = product(first.dims.slice(1));
  const rows = parts.reduce((sum, p) => sum + p.dims[0], 0);
  const out = new (ctorOf(first.data as TypedArray))(rows * rowSize);
  let offset = 0;
  for (const part of parts) {
    out.set(part.data as TypedArray, offset);
    offset += part.dims[0] * rowSize;
  }
  return tensor(first.type as never, out as TensorData, [rows, ...first.dims.slice(1)]);
}
