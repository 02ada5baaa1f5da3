import type { LinearPrecision } from "../../conditioning/bundle/manifest.ts";
import { fp32Linear, int8Linear, type LinearEmitter } from "./linear-emitters.ts";
import { int8ResidualLinear } from "./residual-linear.ts";
import { applySmoothing } from "./smooth-quant.ts";
import { splitInt8Linear } from "./split-linear.ts";
import type { TextTowerWeights } from "./tower-weights.ts";

/**
 * A Linear lowering that follows a per-Linear precision plan: names the plan
 * marks "fp32" get fp32Linear, the others `quantized` (per-token int8 by
 * default; "int8-smooth" Linears are int8 on smoothed weights, see
 * plannedWeights; "int8-split" ones split their outlier channels out to fp32,
 * split-linear.ts). Names the plan does not list are quantized.
 */
export function plannedLinear(
  plan: Readonly<Record<string, LinearPrecision>>,
  quantized: LinearEmitter = int8Linear,
  splitChannels: Readonly<Record<string, number[]>> = {},
): LinearEmitter {
  return (g, x, p, name) => {
    if (plan[name] === "fp32") return fp32Linear(g, x, p, name);
    if (plan[name] === "int8-residual") return int8ResidualLinear(g, x, p, name);
    if (plan[name] === "int8-split" && splitChannels[name]?.length) {
      return splitInt8Linear(splitChannels[name], quantized)(g, x, p, name);
    }
    return quantized(g, x, p, name);
  };
}

/**
 * The weights a plan's graph is built from: its "int8-smooth" Linears, and the
 * "int8-split" ones `factors` lists (smoothed splits), smoothed by `factors`.
 */
export function plannedWeights(
  weights: TextTowerWeights,
  plan: Readonly<Record<string, LinearPrecision>>,
  factors: ReadonlyMap<string, Float32Array>,
): TextTowerWeights {
  const used = new Map(
    [...factors].filter(([name]) => plan[name] === "int8-smooth" || plan[name] === "int8-split"),
  );
  return applySmoothing(weights, used);
}
