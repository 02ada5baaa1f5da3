import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import { attr, type GraphBuilder } from "../onnx/graph-builder.ts";
import { DataType } from "../onnx/onnx-proto.ts";
import { quantizeInt8PerColumn, quantizeQ4Blocks } from "./quantize-weights.ts";
import type { LinearParams } from "./tower-weights.ts";

/** Emits y = x @ W^T + b for a torch Linear; returns the output value name. */
export type LinearEmitter = (g: GraphBuilder, x: string, p: LinearParams, name: string) => string;

function transpose(weight: Float32Array, out: number, inp: number): Float32Array {
  const t = new Float32Array(out * inp);
  for (let n = 0; n < out; n++) for (let k = 0; k < inp; k++) t[k * out + n] = weight[n * inp + k];
  return t;
}

export function addBias(g: GraphBuilder, y: string, p: LinearParams, name: string): string {
  if (!p.bias) return y;
  const b = g.initializer(`${name}.bias`, DataType.FLOAT, [p.outFeatures], p.bias);
  return g.node("Add", [y, b], {}, { name: `${name}_out` });
}

export const fp32Linear: LinearEmitter = (g, x, p, name) => {
  const w = g.initializer(
    `${name}.weight_t`,
    DataType.FLOAT,
    [p.inFeatures, p.outFeatures],
    transpose(p.weight, p.outFeatures, p.inFeatures),
  );
  return addBias(g, g.node("MatMul", [x, w], {}, { name: `${name}_mm` }), p, name);
};

/**
 * Per-tensor dynamic int8 (the pre-#11 lowering, kept as a bench baseline):
 * DynamicQuantizeLinear(x) -> MatMulInteger(x_u8, W_s8) -> Cast -> Mul(x_scale *
 * w_scale[col]) (+ bias). One activation scale for the whole tensor, so a row's
 * result depends on every other row in the batch: never shipped by `prepare`.
 */
export const int8PerTensorLinear: LinearEmitter = (g, x, p, name) => {
  const { w, ws } = int8Weights(g, p, name);
  const [xq, xs, xzp] = g.nodeMulti(
    "DynamicQuantizeLinear",
    [x],
    {},
    { outputs: 3, name: `${name}_xq` },
  );
  const acc = g.node("MatMulInteger", [xq, w, xzp], {}, { name: `${name}_mmi` });
  const scale = g.node("Mul", [xs, ws], {}, { name: `${name}_scale` });
  const f = g.node("Cast", [acc], { to: attr.int(DataType.FLOAT) }, { name: `${name}_f` });
  return addBias(g, g.node("Mul", [f, scale], {}, { name: `${name}_mm` }), p, name);
};

export function int8Weights(g: GraphBuilder, p: LinearParams, name: string) {
  const q = quantizeInt8PerColumn(p.weight, p.outFeatures, p.inFeatures);
  const w = g.initializer(`${name}.weight_q`, DataType.INT8, [p.inFeatures, p.outFeatures], q.data);
  const ws = g.initializer(`${name}.weight_scale`, DataType.FLOAT, [p.outFeatures], q.scales);
  return { w, ws };
}

/** uint8 zero point of the per-token activations: symmetric int8 shifted by 128. */
export const ACT_ZERO_POINT = 128;
/** Floor of an activation scale, so an all-zero row quantises to zeros instead of NaN. */
const MIN_ACT_SCALE = 1e-30;

/**
 * Per-token dynamic int8: every row (batch item x position) of x gets its own
 * symmetric scale `max|x_row| / 127`, so a row's result never depends on the
 * other rows of the batch, on padding past it, or on where the sequence is cut.
 *
 *   s[b,t]  = max(ReduceMax(|x[b,t,:]|) / 127, 1e-30)
 *   x_u8    = QuantizeLinear(x rows, s, zero point 128)   (per-axis, round half to even)
 *   y       = MatMulInteger(x_u8, W_s8, 128) * s[b,t] * w_scale[n]  (+ bias)
 *
 * uint8 with a fixed zero point of 128 keeps onnxruntime's U8S8 GEMM kernel and a
 * scalar zero point; integer accumulation is exact, so the only float work per
 * element is the two scale multiplications.
 *
 * Speed (bench/experiments/int8-lowering-micro.ts, onnxruntime-web WASM, CLIP-L
 * shapes, round-robin): 1-9 % over the per-tensor lowering per Linear (the GEMM
 * dominates) and as fast as or faster than the exact alternatives tried (Div/Round/
 * Add/Cast, Max(ReduceMax, -ReduceMin) instead of Abs, a 2-D MatMulInteger). One Mul
 * by the outer product s[b,t] * w_scale[n] is not exact (1 ulp off), so not used.
 */
export const int8Linear: LinearEmitter = (g, x, p, name) => {
  const { w, ws } = int8Weights(g, p, name);
  const q = quantizeRows(g, x, p.inFeatures, name);
  const xq = g.node("Reshape", [q.xq, g.node("Shape", [x])], {}, { name: `${name}_xq` });
  return addBias(g, dequantizedProduct(g, xq, w, q.scale, ws, name), p, name);
};

/**
 * Per-row symmetric quantisation of x (any rank, last axis `k`): the rows as
 * [rows, k] uint8 (zero point 128), their scales as [rows] (`rows`) and shaped
 * like x with a last axis of 1 (`scale`).
 */
export function quantizeRows(g: GraphBuilder, x: string, k: number, name: string) {
  const amax = g.node(
    "ReduceMax",
    [g.node("Abs", [x], {}, { name: `${name}_abs` })],
    { axes: attr.ints([-1]), keepdims: attr.int(1) },
    { name: `${name}_amax` },
  );
  const scale = g.node(
    "Max",
    [
      g.node("Mul", [amax, g.scalar(1 / 127)], {}, { name: `${name}_s127` }),
      g.scalar(MIN_ACT_SCALE),
    ],
    {},
    { name: `${name}_xs` },
  );
  const rows = g.node("Reshape", [scale, g.constant("int64", [-1])], {}, { name: `${name}_xs1` });
  const zp8 = g.initializer(`${name}.act_zp`, DataType.UINT8, [1], Uint8Array.of(ACT_ZERO_POINT));
  const zpRows = g.node("Expand", [zp8, g.node("Shape", [rows])], {}, { name: `${name}_zps` });
  const x2 = g.node("Reshape", [x, g.constant("int64", [-1, k])], {}, { name: `${name}_x2` });
  const xq = g.node(
    "QuantizeLinear",
    [x2, rows, zpRows],
    { axis: attr.int(0) },
    { name: `${name}_xq2` },
  );
  return { xq, rows, zpRows, scale, x2 };
}

/** MatMulInteger(xq, W, 128) * x_scale[row] * w_scale[n], in that order (exact per row). */
export function dequantizedProduct(
  g: GraphBuilder,
  xq: string,
  w: string,
  xScale: string,
  ws: string,
  name: string,
): string {
  const zpScalar = g.initializer(
    `${name}.act_zp0`,
    DataType.UINT8,
    [],
    Uint8Array.of(ACT_ZERO_POINT),
  );
  const acc = g.node("MatMulInteger", [xq, w, zpScalar], {}, { name: `${name}_mmi` });
  const f = g.node("Cast", [acc], { to: attr.int(DataType.FLOAT) }, { name: `${name}_f` });
  return g.node(
    "Mul",
    [g.node("Mul", [f, xScale], {}, { name: `${name}_xsc` }), ws],
    {},
    { name: `${name}_mm` },
  );
}

/** 4-bit blockwise: com.microsoft MatMulNBits (bits 4, block 32) (+ bias). */
export function createQ4Linear(blockSize = 32, accuracyLevel = 0): LinearEmitter {
  return (g, x, p, name) => {
    const q = quantizeQ4Blocks(p.weight, p.outFeatures, p.inFeatures, blockSize);
    const b = g.initializer(
      `${name}.weight_q4`,
      DataType.UINT8,
      [p.outFeatures, q.kBlocks, blockSize / 2],
      q.data,
    );
    const s = g.initializer(
      `${name}.weight_scales`,
      DataType.FLOAT,
      [p.outFeatures * q.kBlocks],
      q.scales,
    );
    const zp = g.initializer(
      `${name}.weight_zp`,
      DataType.UINT8,
      [q.zeroPoints.length],
      q.zeroPoints,
    );
    const y = g.node(
      "MatMulNBits",
      [x, b, s, zp],
      {
        K: attr.int(p.inFeatures),
        N: attr.int(p.outFeatures),
        bits: attr.int(4),
        block_size: attr.int(blockSize),
        accuracy_level: attr.int(accuracyLevel),
      },
      { domain: "com.microsoft", name: `${name}_mm` },
    );
    return addBias(g, y, p, name);
  };
}

export function linearEmitterFor(quant: Quantization, q4AccuracyLevel = 0): LinearEmitter {
  if (quant === "int8") return int8Linear;
  if (quant === "q4") return createQ4Linear(32, q4AccuracyLevel);
  return fp32Linear;
}
