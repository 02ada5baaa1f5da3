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

function addBias(g: GraphBuilder, y: string, p: LinearParams, name: string): string {
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
 * Dynamic int8: DynamicQuantizeLinear(x) -> MatMulInteger(x_u8, W_s8) -> Cast
 * -> Mul(x_scale * w_scale[col]) (+ bias). Same pattern as onnxruntime's
 * dynamic quantizer, which its optimizer fuses into DynamicQuantizeMatMul.
 */
export const int8Linear: LinearEmitter = (g, x, p, name) => {
  const q = quantizeInt8PerColumn(p.weight, p.outFeatures, p.inFeatures);
  const w = g.initializer(`${name}.weight_q`, DataType.INT8, [p.inFeatures, p.outFeatures], q.data);
  const ws = g.initializer(`${name}.weight_scale`, DataType.FLOAT, [p.outFeatures], q.scales);
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
