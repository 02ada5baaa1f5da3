import { attr } from "../onnx/graph-builder.ts";
import { DataType } from "../onnx/onnx-proto.ts";
import {
  ACT_ZERO_POINT,
  addBias,
  int8Weights,
  type LinearEmitter,
  quantizeRows,
} from "./linear-emitters.ts";

/**
 * Per-token int8 with a second, residual pass over the activations ("int8-residual"):
 * each row is quantised as in int8Linear (scale s1 = max|x_row| / 127), then what
 * that rounding lost, r = x - s1 * q1, is quantised again with its own per-row scale
 * s2 = max|r_row| / 127 (about s1 / 254), and both go through the same int8 weights:
 *
 *   y = (MatMulInteger(q1, W) * s1 + MatMulInteger(q2, W) * s2) * w_scale[n]  (+ bias)
 *
 * The activations then carry ~15 bits, so a row's few outlier channels no longer
 * crush the rest; only the weights' int8 rounding is left. No extra weight bytes
 * (the one int8 weight initializer feeds both GEMMs), one more GEMM of the same
 * size. Every reduction stays within a row, so results are batch-independent.
 */
export const int8ResidualLinear: LinearEmitter = (g, x, p, name) => {
  const { w, ws } = int8Weights(g, p, name);
  const k = p.inFeatures;
  const shape = g.node("Shape", [x], {}, { name: `${name}_shape` });
  const first = quantizeRows(g, x, k, name);
  const back = g.node(
    "DequantizeLinear",
    [first.xq, first.rows, first.zpRows],
    { axis: attr.int(0) },
    { name: `${name}_xd` },
  );
  const residual = g.node(
    "Sub",
    [x, g.node("Reshape", [back, shape], {}, { name: `${name}_xd3` })],
    {},
    { name: `${name}_r` },
  );
  const second = quantizeRows(g, residual, k, `${name}_res`);
  const zp = g.initializer(`${name}.act_zp0`, DataType.UINT8, [], Uint8Array.of(ACT_ZERO_POINT));
  const pass = (q: string, scale: string, tag: string) => {
    const xq = g.node("Reshape", [q, shape], {}, { name: `${name}_xq${tag}` });
    const acc = g.node("MatMulInteger", [xq, w, zp], {}, { name: `${name}_mmi${tag}` });
    const f = g.node("Cast", [acc], { to: attr.int(DataType.FLOAT) }, { name: `${name}_f${tag}` });
    return g.node("Mul", [f, scale], {}, { name: `${name}_xsc${tag}` });
  };
  const sum = g.node(
    "Add",
    [pass(first.xq, first.scale, ""), pass(second.xq, second.scale, "_res")],
    {},
    { name: `${name}_sum` },
  );
  return addBias(g, g.node("Mul", [sum, ws], {}, { name: `${name}_mm` }), p, name);
};
