import { attr } from "../onnx/graph-builder.ts";
import { DataType } from "../onnx/onnx-proto.ts";
import { int8Linear, type LinearEmitter } from "./linear-emitters.ts";
import type { LinearParams } from "./tower-weights.ts";

/**
 * Outlier-channel split (LLM.int8()-style decomposition) of one Linear: the
 * few input channels `channels` whose activations are far larger than the
 * rest go through a small fp32 MatMul, every other channel through per-token
 * int8, and the two are added:
 *
 *   y = int8(x * mask, W with columns C zeroed) + Gather(x, C) @ W[:, C]^T
 *
 * Exact in fp32 (a sum split by columns); in int8 the per-token scale no
 * longer sees the outlier channels. For Linears without a preceding
 * LayerNorm to smooth into (fc2, whose inputs carry hot MLP units), at a cost
 * of |C| fp32 weight columns instead of the whole Linear.
 */
export function splitInt8Linear(
  channels: readonly number[],
  quantized = int8Linear,
): LinearEmitter {
  return (g, x, p, name) => {
    const k = p.inFeatures;
    const mask = new Float32Array(k).fill(1);
    for (const c of channels) mask[c] = 0;
    const rest: LinearParams = { ...p, weight: p.weight.map((v, i) => v * mask[i % k]) };
    const masked = g.node(
      "Mul",
      [x, g.initializer(`${name}.split_mask`, DataType.FLOAT, [k], mask)],
      {},
      { name: `${name}_rest` },
    );
    const yq = quantized(g, masked, rest, name);
    const wc = new Float32Array(channels.length * p.outFeatures); // [|C|, out]
    channels.forEach((c, i) => {
      for (let o = 0; o < p.outFeatures; o++) wc[i * p.outFeatures + o] = p.weight[o * k + c];
    });
    const idx = g.initializer(
      `${name}.split_channels`,
      DataType.INT64,
      [channels.length],
      BigInt64Array.from(channels, (c) => BigInt(c)),
    );
    const xo = g.node("Gather", [x, idx], { axis: attr.int(-1) }, { name: `${name}_outliers` });
    const yo = g.node(
      "MatMul",
      [
        xo,
        g.initializer(`${name}.split_weight`, DataType.FLOAT, [channels.length, p.outFeatures], wc),
      ],
      {},
      { name: `${name}_outlier_mm` },
    );
    return g.node("Add", [yq, yo], {}, { name: `${name}_split` });
  };
}

/** The `k` largest input channels by calibration max (divided by `smooth` when given), ascending. */
export function largestChannels(actMax: Float32Array, k: number, smooth?: Float32Array): number[] {
  const m = smooth ? actMax.map((v, j) => v / smooth[j]) : actMax;
  return [...m.keys()]
    .sort((a, b) => m[b] - m[a])
    .slice(0, Math.min(k, m.length))
    .sort((a, b) => a - b);
}
