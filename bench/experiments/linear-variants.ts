import { attr, type GraphBuilder } from "../../node/onnx/graph-builder.ts";
import { DataType } from "../../node/onnx/onnx-proto.ts";
import {
  createQ4Linear,
  fp32Linear,
  int8Linear,
  int8PerTensorLinear,
  type LinearEmitter,
} from "../../node/prepare/linear-emitters.ts";
import { quantizeInt8PerColumn } from "../../node/prepare/quantize-weights.ts";
import type { LinearParams } from "../../node/prepare/tower-weights.ts";

/**
 * Linear-layer lowering choices measured against each other (lever
 * experiments; the production emitters live in node/prepare/linear-emitters.ts).
 */
export type LinearKind = "fp32" | "int8" | "int8-tensor" | "int8-dq" | "q4" | "q4-acc4";

function addBias(g: GraphBuilder, y: string, p: LinearParams, name: string): string {
  if (!p.bias) return y;
  const b = g.initializer(`${name}.bias`, DataType.FLOAT, [p.outFeatures], p.bias);
  return g.node("Add", [y, b], {}, { name: `${name}_out` });
}

/** Static int8 weights dequantised in the graph (DequantizeLinear -> fp32 MatMul). */
export const int8DequantLinear: LinearEmitter = (g, x, p, name) => {
  const q = quantizeInt8PerColumn(p.weight, p.outFeatures, p.inFeatures);
  const w = g.initializer(`${name}.weight_q`, DataType.INT8, [p.inFeatures, p.outFeatures], q.data);
  const s = g.initializer(`${name}.weight_scale`, DataType.FLOAT, [p.outFeatures], q.scales);
  const zp = g.initializer(
    `${name}.weight_zp`,
    DataType.INT8,
    [p.outFeatures],
    new Int8Array(p.outFeatures),
  );
  const wf = g.node("DequantizeLinear", [w, s, zp], { axis: attr.int(1) }, { name: `${name}_dq` });
  return addBias(g, g.node("MatMul", [x, wf], {}, { name: `${name}_mm` }), p, name);
};

export function linearFor(kind: LinearKind): LinearEmitter {
  switch (kind) {
    case "fp32":
      return fp32Linear;
    case "int8":
      return int8Linear;
    case "int8-tensor":
      // pre-#11 per-tensor activation scale (batch-dependent), the baseline per-token is held to
      return int8PerTensorLinear;
    case "int8-dq":
      return int8DequantLinear;
    case "q4":
      return createQ4Linear(32, 0);
    case "q4-acc4":
      return createQ4Linear(32, 4);
  }
}

/**
 * Per-layer-kind choice: names end in `.qkv`, `.out_proj`, `.fc1`, `.fc2`
 * (node/prepare/encoder-layer.ts). `mlp` covers fc1/fc2, `attn` qkv/out_proj.
 */
export function mixedLinear(attn: LinearKind, mlp: LinearKind): LinearEmitter {
  const a = linearFor(attn);
  const m = linearFor(mlp);
  return (g, x, p, name) => (/\.fc[12]$/.test(name) ? m : a)(g, x, p, name);
}
