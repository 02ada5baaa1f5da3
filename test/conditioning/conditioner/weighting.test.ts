import { describe, expect, it } from "vitest";
import {
  allOnes,
  compelBlend,
  compelLerpWeight,
  weightA1111,
  weightLerpFromEmpty,
  weightMultiply,
} from "../../../conditioning/conditioner/weighting.ts";

const width = 4;
const seq = 5;
function tensor(seed: number): Float32Array {
  return Float32Array.from(
    { length: seq * width },
    (_, i) => Math.sin(seed * 13.1 + i * 0.7) + 0.3,
  );
}
const weights = [1, 1.5, 0.5, 1.21, 1];

describe("weighting formulas", () => {
  it("a1111-no-norm multiplies each position's vector by its weight", () => {
    const z = tensor(1);
    const out = weightMultiply(z, weights, width);
    for (let p = 0; p < seq; p++) {
      for (let i = 0; i < width; i++) {
        expect(out[p * width + i]).toBe(Math.fround(z[p * width + i] * weights[p]));
      }
    }
  });

  it("a1111 rescales the weighted chunk so its mean equals the unweighted mean (all rows)", () => {
    const z = tensor(2);
    const out = weightA1111(z, weights, width);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(z), 6);
    // Direct computation: z * w * (mean(z) / mean(z * w)).
    const zw = Float32Array.from(z, (v, i) => v * weights[Math.floor(i / width)]);
    const factor = mean(z) / mean(zw);
    out.forEach((v, i) => {
      expect(v).toBeCloseTo(zw[i] * factor, 6);
    });
    // Not just the multiply: the factor is not 1 here.
    expect(Math.abs(factor - 1)).toBeGreaterThan(1e-3);
  });

  it("comfy lerps from the empty-prompt encoding only where w != 1", () => {
    const z = tensor(3);
    const empty = tensor(4);
    const out = weightLerpFromEmpty(z, empty, weights, width, true);
    for (let p = 0; p < seq; p++) {
      for (let i = 0; i < width; i++) {
        const k = p * width + i;
        const expected = weights[p] === 1 ? z[k] : (z[k] - empty[k]) * weights[p] + empty[k];
        expect(out[k]).toBeCloseTo(expected, 6);
        if (weights[p] === 1) expect(out[k]).toBe(z[k]);
      }
    }
  });

  it("compel lerp weights are tan((1 - w) * pi / 2), w clamped at 1e-5", () => {
    expect(compelLerpWeight(1)).toBe(0);
    expect(compelLerpWeight(0.5)).toBeCloseTo(1, 12);
    expect(compelLerpWeight(0)).toBeCloseTo(Math.tan(((1 - 1e-5) * Math.PI) / 2), 3);
    expect(compelLerpWeight(0.9)).toBeCloseTo(Math.tan(0.05 * Math.PI), 12);
  });

  it("compel blend is the normalised weighted sum of base and masked encodings", () => {
    const base = tensor(5);
    const a = tensor(6);
    const b = tensor(7);
    const l = [compelLerpWeight(0.5), compelLerpWeight(0.8)];
    const out = compelBlend(base, [a, b], l);
    const total = 1 + l[0] + l[1];
    out.forEach((v, i) => {
      expect(v).toBeCloseTo((base[i] + a[i] * l[0] + b[i] * l[1]) / total, 6);
    });
    // weight 0.5 with one masked copy: exactly half-way.
    const half = compelBlend(base, [a], [compelLerpWeight(0.5)]);
    half.forEach((v, i) => {
      expect(v).toBeCloseTo((base[i] + a[i]) / 2, 6);
    });
  });

  it("allOnes detects unweighted chunks", () => {
    expect(allOnes([1, 1, 1])).toBe(true);
    expect(allOnes([1, 1.0000001, 1])).toBe(false);
  });
});
