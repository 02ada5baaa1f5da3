import { attr, type GraphBuilder } from "../../node/onnx/graph-builder.ts";
import { DataType } from "../../node/onnx/onnx-proto.ts";
import type { LinearEmitter } from "../../node/prepare/linear-emitters.ts";
import { quantizeInt8PerColumn } from "../../node/prepare/quantize-weights.ts";
import type { LinearParams } from "../../node/prepare/tower-weights.ts";

/**
 * Alternative exact formulations of per-token int8 (issue #11), measured against
 * the production `int8Linear` and the per-tensor baseline by
 * bench/experiments/int8-lowering-micro.ts. Every one computes the same integers:
 * q = round_half_even(x / s_row) + 128, s_row = max(max|x_row| / 127, 1e-30).
 */

function addBias(g: GraphBuilder, y: string, p: LinearParams, name: string): string {
  if (!p.bias) return y;
  const b = g.initializer(`${name}.bias`, DataType.FLOAT, [p.outFeatures], p.bias);
  return g.node("Add", [y, b], {}, { name: `${name}_out` });
}

function weights(g: GraphBuilder, p: LinearParams, name: string) {
  const q = quantizeInt8PerColumn(p.weight, p.outFeatures, p.inFeatures);
  const w = g.initializer(`${name}.weight_q`, DataType.INT8, [p.inFeatures, p.outFeatures], q.data);
  const ws = g.initializer(`${name}.weight_scale`, DataType.FLOAT, [p.outFeatures], q.scales);
  const zp = g.initializer(`${name}.act_zp0`, DataType.UINT8, [], Uint8Array.of(128));
  return { w, ws, zp };
}

type AmaxForm = "abs" | "minmax";

/** Row scale [.., 1] (keepdims) of x: max(max|x_row| / 127, 1e-30). */
function rowScale(g: GraphBuilder, x: string, name: string, form: AmaxForm = "abs"): string {
  const reduce = (op: string, input: string, tag: string) =>
    g.node(
      op,
      [input],
      { axes: attr.ints([-1]), keepdims: attr.int(1) },
      { name: `${name}_${tag}` },
    );
  const amax =
    form === "abs"
      ? reduce("ReduceMax", g.node("Abs", [x], {}, { name: `${name}_abs` }), "amax")
      : g.node(
          "Max",
          [reduce("ReduceMax", x, "rmax"), g.node("Neg", [reduce("ReduceMin", x, "rmin")])],
          {},
          { name: `${name}_amax` },
        );
  return g.node(
    "Max",
    [g.node("Mul", [amax, g.scalar(1 / 127)], {}, { name: `${name}_s127` }), g.scalar(1e-30)],
    {},
    { name: `${name}_xs` },
  );
}

/** x / s -> Round (half to even) -> + 128 -> Cast uint8: no reshapes, no per-axis op. */
function quantizeByDiv(g: GraphBuilder, x: string, s: string, name: string): string {
  const r = g.node(
    "Round",
    [g.node("Div", [x, s], {}, { name: `${name}_xdiv` })],
    {},
    { name: `${name}_xr` },
  );
  return g.node(
    "Cast",
    [g.node("Add", [r, g.scalar(128)], {}, { name: `${name}_x128` })],
    { to: attr.int(DataType.UINT8) },
    { name: `${name}_xq` },
  );
}

function scaleOut(
  g: GraphBuilder,
  acc: string,
  s: string,
  ws: string,
  name: string,
  outer: boolean,
): string {
  const f = g.node("Cast", [acc], { to: attr.int(DataType.FLOAT) }, { name: `${name}_f` });
  if (outer) {
    const both = g.node("Mul", [s, ws], {}, { name: `${name}_sws` });
    return g.node("Mul", [f, both], {}, { name: `${name}_mm` });
  }
  return g.node(
    "Mul",
    [g.node("Mul", [f, s], {}, { name: `${name}_xsc` }), ws],
    {},
    { name: `${name}_mm` },
  );
}

/** Div/Round/Add/Cast quantisation on the 3-D activations, two scale Muls. */
export function createInt8DivLinear(
  options: { outer?: boolean; amax?: AmaxForm } = {},
): LinearEmitter {
  return (g, x, p, name) => {
    const { w, ws, zp } = weights(g, p, name);
    const s = rowScale(g, x, name, options.amax);
    const acc = g.node(
      "MatMulInteger",
      [quantizeByDiv(g, x, s, name), w, zp],
      {},
      {
        name: `${name}_mmi`,
      },
    );
    return addBias(g, scaleOut(g, acc, s, ws, name, options.outer ?? false), p, name);
  };
}

/** Everything on the [-1, K] view (2-D MatMulInteger), output reshaped back once. */
export const int8Div2dLinear: LinearEmitter = (g, x, p, name) => {
  const { w, ws, zp } = weights(g, p, name);
  const x2 = g.node(
    "Reshape",
    [x, g.constant("int64", [-1, p.inFeatures])],
    {},
    {
      name: `${name}_x2`,
    },
  );
  const s = rowScale(g, x2, name);
  const acc = g.node(
    "MatMulInteger",
    [quantizeByDiv(g, x2, s, name), w, zp],
    {},
    {
      name: `${name}_mmi`,
    },
  );
  const y2 = scaleOut(g, acc, s, ws, `${name}_2d`, false);
  const outShape = g.node(
    "Concat",
    [
      g.node("Slice", [g.node("Shape", [x]), g.constant("int64", [0]), g.constant("int64", [-1])]),
      g.constant("int64", [p.outFeatures]),
    ],
    { axis: attr.int(0) },
  );
  const y = g.node("Reshape", [y2, outShape], {}, { name: `${name}_mm` });
  return addBias(g, y, p, name);
};
