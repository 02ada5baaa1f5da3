/**
 * A hand-encoded ONNX model `z = MatMul(x, w) + b` (x float32 [n, 2], w [2, 3])
 * used to prove onnxruntime-web runs inside workerd independent of `prepare`.
 */
const enc = new TextEncoder();

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
}

function field(no: number, payload: Uint8Array | number[] | string): number[] {
  const bytes = typeof payload === "string" ? [...enc.encode(payload)] : [...payload];
  return [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
}

function intField(no: number, value: number): number[] {
  return [...varint(no << 3), ...varint(value)];
}

function valueInfo(name: string, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => field(1, typeof d === "number" ? intField(1, d) : field(2, d)));
  const tensorType = [...intField(1, 1), ...field(2, shape)];
  return [...field(1, name), ...field(2, field(1, tensorType))];
}

function initializer(name: string, dims: number[], values: number[]): number[] {
  const raw = new Uint8Array(new Float32Array(values).buffer);
  return [
    ...dims.flatMap((d) => intField(1, d)),
    ...intField(2, 1),
    ...field(8, name),
    ...field(9, raw),
  ];
}

export const TINY_W = [1, 2, 3, 4, 5, 6];
export const TINY_B = [0.5, -0.5, 1];

export function tinyOnnxModel(): Uint8Array {
  const matmul = [...field(1, "x"), ...field(1, "w"), ...field(2, "xw"), ...field(4, "MatMul")];
  const add = [...field(1, "xw"), ...field(1, "b"), ...field(2, "z"), ...field(4, "Add")];
  const graph = [
    ...field(1, matmul),
    ...field(1, add),
    ...field(2, "tiny"),
    ...field(5, initializer("w", [2, 3], TINY_W)),
    ...field(5, initializer("b", [3], TINY_B)),
    ...field(11, valueInfo("x", ["n", 2])),
    ...field(12, valueInfo("z", ["n", 3])),
  ];
  const model = [
    ...intField(1, 8),
    ...field(7, graph),
    ...field(8, [...field(1, ""), ...intField(2, 17)]),
  ];
  return Uint8Array.from(model);
}
