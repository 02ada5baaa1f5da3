import type { HiddenAct } from "../../conditioning/bundle/manifest.ts";
import { attr, type GraphBuilder } from "../onnx/graph-builder.ts";
import { DataType } from "../onnx/onnx-proto.ts";
import type { LinearEmitter } from "./linear-emitters.ts";
import type { EncoderLayerParams, LayerNormParams, LinearParams } from "./tower-weights.ts";

export function layerNorm(
  g: GraphBuilder,
  x: string,
  p: LayerNormParams,
  eps: number,
  name: string,
  outName?: string,
): string {
  const w = g.initializer(`${name}.weight`, DataType.FLOAT, [p.weight.length], p.weight);
  const b = g.initializer(`${name}.bias`, DataType.FLOAT, [p.bias.length], p.bias);
  return g.node(
    "LayerNormalization",
    [x, w, b],
    { axis: attr.int(-1), epsilon: attr.float(eps) },
    outName ? { outputs: [outName] } : { name },
  );
}

export function activation(g: GraphBuilder, x: string, act: HiddenAct, name: string): string {
  if (act === "quick_gelu") {
    const s = g.node(
      "Sigmoid",
      [g.node("Mul", [x, g.scalar(1.702)], {}, { name: `${name}_1702x` })],
      {},
      { name: `${name}_sig` },
    );
    return g.node("Mul", [x, s], {}, { name: `${name}_qgelu` });
  }
  // exact gelu: 0.5 * x * (1 + erf(x / sqrt(2)))
  const e = g.node(
    "Erf",
    [g.node("Div", [x, g.scalar(Math.SQRT2)], {}, { name: `${name}_xs2` })],
    {},
    { name: `${name}_erf` },
  );
  const onePlus = g.node("Add", [e, g.scalar(1)], {}, { name: `${name}_1perf` });
  const half = g.node("Mul", [x, g.scalar(0.5)], {}, { name: `${name}_halfx` });
  return g.node("Mul", [half, onePlus], {}, { name: `${name}_gelu` });
}

/** Concatenates q, k, v into one Linear [3W, W]; the attention scale is folded into q. */
export function fusedQkv(p: EncoderLayerParams, scale: number): LinearParams {
  const w = p.q.inFeatures;
  const weight = new Float32Array(3 * w * w);
  const bias = new Float32Array(3 * w);
  [p.q, p.k, p.v].forEach((lin, i) => {
    const s = i === 0 ? scale : 1;
    for (let j = 0; j < w * w; j++) weight[i * w * w + j] = lin.weight[j] * s;
    for (let j = 0; j < w; j++) bias[i * w + j] = (lin.bias?.[j] ?? 0) * s;
  });
  return { weight, bias, outFeatures: 3 * w, inFeatures: w };
}

export interface LayerContext {
  g: GraphBuilder;
  linear: LinearEmitter;
  width: number;
  heads: number;
  act: HiddenAct;
  eps: number;
  /** Additive attention mask broadcastable to [B, H, S, S], or undefined. */
  mask?: string;
}

/**
 * Multi-head attention core on the fused qkv Linear output [B, S, 3W] (q pre-scaled):
 * Split, per-head Reshape/Transpose, MatMul, optional additive mask, Softmax, MatMul,
 * merge back to [B, S, W] (before out_proj).
 */
export function attentionCore(
  g: GraphBuilder,
  qkv: string,
  shape: { width: number; heads: number; mask?: string },
  name: string,
): string {
  const { width, heads } = shape;
  const headDim = width / heads;
  const [q, k, v] = g.nodeMulti(
    "Split",
    [qkv, g.constant("int64", [width, width, width])],
    { axis: attr.int(-1) },
    { outputs: 3, name: `${name}_qkv_split` },
  );
  const heads4 = g.constant("int64", [0, 0, heads, headDim]);
  const q4 = g.node(
    "Transpose",
    [g.node("Reshape", [q, heads4])],
    { perm: attr.ints([0, 2, 1, 3]) },
    { name: `${name}_q` },
  );
  const kT = g.node(
    "Transpose",
    [g.node("Reshape", [k, heads4])],
    { perm: attr.ints([0, 2, 3, 1]) },
    { name: `${name}_kT` },
  );
  const v4 = g.node(
    "Transpose",
    [g.node("Reshape", [v, heads4])],
    { perm: attr.ints([0, 2, 1, 3]) },
    { name: `${name}_v` },
  );
  let scores = g.node("MatMul", [q4, kT], {}, { name: `${name}_scores` });
  if (shape.mask) scores = g.node("Add", [scores, shape.mask], {}, { name: `${name}_masked` });
  const probs = g.node("Softmax", [scores], { axis: attr.int(-1) }, { name: `${name}_probs` });
  const attnCtx = g.node("MatMul", [probs, v4], {}, { name: `${name}_ctx` });
  return g.node(
    "Reshape",
    [
      g.node("Transpose", [attnCtx], { perm: attr.ints([0, 2, 1, 3]) }),
      g.constant("int64", [0, 0, width]),
    ],
    {},
    { name: `${name}_merged` },
  );
}

/** One pre-LN CLIP encoder layer: x + attn(ln1(x)), then + mlp(ln2(.)). */
export function encoderLayer(
  ctx: LayerContext,
  x: string,
  p: EncoderLayerParams,
  name: string,
  outName?: string,
): string {
  const { g, width, heads } = ctx;
  const headDim = width / heads;
  const h = layerNorm(g, x, p.ln1, ctx.eps, `${name}.ln1`);
  const qkv = ctx.linear(g, h, fusedQkv(p, headDim ** -0.5), `${name}.qkv`);
  const merged = attentionCore(g, qkv, { width, heads, mask: ctx.mask }, name);
  const attnOut = ctx.linear(g, merged, p.out, `${name}.out_proj`);
  const x1 = g.node("Add", [x, attnOut], {}, { name: `${name}_res1` });
  const h2 = layerNorm(g, x1, p.ln2, ctx.eps, `${name}.ln2`);
  const f1 = activation(g, ctx.linear(g, h2, p.fc1, `${name}.fc1`), ctx.act, `${name}.act`);
  const f2 = ctx.linear(g, f1, p.fc2, `${name}.fc2`);
  return g.node("Add", [x1, f2], {}, outName ? { outputs: [outName] } : { name: `${name}_out` });
}
