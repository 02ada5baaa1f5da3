import { describe, expect, it } from "vitest";
import {
  estimateLoadPeak,
  planStages,
  type StagePlanInput,
} from "../../../node/prepare/stage-planner.ts";

const MB = 1e6;
// CLIP-L-like: 12 layers of 7 MB, a 1 MB head, a 17 MB runtime, 0.85 heap bytes per stage byte.
const clipL = (budgetMb: number, loadBuffer?: StagePlanInput["loadBuffer"]): StagePlanInput => ({
  layerBytes: Array.from({ length: 12 }, () => 7 * MB),
  headBytes: 1 * MB,
  runtimeBytes: 17 * MB,
  heapPerByte: 0.85,
  budgetBytes: budgetMb * MB,
  ...(loadBuffer ? { loadBuffer } : {}),
});
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("planStages", () => {
  it("one group when the budget fits everything", () => {
    for (const mode of ["per-stage", "largest"] as const) {
      const plan = planStages(clipL(1000, mode));
      expect(plan).toMatchObject({ layers: [12], fits: true });
      // The 84 MB stage held beside the heap: until the head is created too (worker) or not.
      const heap = mode === "largest" ? 17 + 0.85 * 85 : 17 + 0.85 * 84;
      expect(plan.estimatedPeakBytes / MB).toBeCloseTo(heap + 84, 6);
    }
  });

  it("per-stage loader, tight budget: decreasing group sizes, each stage within the budget", () => {
    const input = clipL(110, "per-stage");
    const plan = planStages(input);
    expect(plan.fits).toBe(true);
    expect(sum(plan.layers)).toBe(12);
    expect(plan.layers.length).toBeGreaterThan(1);
    for (let i = 1; i < plan.layers.length; i++)
      expect(plan.layers[i]).toBeLessThanOrEqual(plan.layers[i - 1]);
    expect(plan.layers[0]).toBeGreaterThan(plan.layers[plan.layers.length - 1]);
    // (93 MB of room) / 1.85 -> 7 layers, then 3, then 2.
    expect(plan.layers).toEqual([7, 3, 2]);
    expect(plan.estimatedPeakBytes).toBeLessThanOrEqual(input.budgetBytes);
    // The fewest: no split into fewer stages fits.
    expect(estimateLoadPeak(input, [8, 3, 1])).toBeGreaterThan(input.budgetBytes);
    expect(estimateLoadPeak(input, [7, 4, 1])).toBeGreaterThan(input.budgetBytes);
  });

  it("worker loader (one buffer of the largest stage held to the end): even groups that fit", () => {
    const input = clipL(110);
    const plan = planStages(input);
    // Room beside the full heap (17 + 0.85 * 85 = 89.25 MB): 20.75 MB -> 2 layers per stage.
    expect(plan).toMatchObject({ layers: [2, 2, 2, 2, 2, 2], fits: true });
    expect(plan.estimatedPeakBytes / MB).toBeCloseTo(89.25 + 14, 6);
    // 125 MB: 35.75 MB of room -> 5 layers, evened out to 4, 4, 4 (a lower peak, same count).
    expect(planStages(clipL(125)).layers).toEqual([4, 4, 4]);
  });

  it("an impossible budget: per-layer, flagged", () => {
    for (const mode of ["per-stage", "largest"] as const) {
      const plan = planStages(clipL(90, mode));
      expect(plan.fits).toBe(false);
      expect(plan.layers).toEqual(Array.from({ length: 12 }, () => 1));
      expect(plan.estimatedPeakBytes).toBeGreaterThan(90 * MB);
    }
  });

  it("unequal layers: groups follow the bytes", () => {
    const plan = planStages({
      layerBytes: [10, 1, 1, 1, 1].map((b) => b * MB),
      headBytes: 0.5 * MB,
      runtimeBytes: 0,
      heapPerByte: 1,
      budgetBytes: 27 * MB,
      loadBuffer: "largest",
    });
    // Heap 14.5 MB at the end: 12.5 MB of room -> greedy [10, 1, 1] then [1, 1], two stages;
    // [10, 1] then [1, 1, 1] is two stages with a smaller largest one (11 MB): a lower peak.
    expect(plan).toMatchObject({ layers: [2, 3], fits: true });
    expect(plan.estimatedPeakBytes / MB).toBeCloseTo(14.5 + 11, 6);
  });
});

describe("planStages: a heavier first layer (the embeddings)", () => {
  it("evens the groups out with the larger ones last where the first would not fit", () => {
    // Measured per-layer CLIP-L int8 stage bytes (synthetic, external data, token table outside).
    const layerBytes = [7.41, 7.18, 7.18, 7.18, 7.18, 7.18, 7.18, 7.18, 7.18, 7.18, 7.18, 7.18];
    const plan = planStages({
      layerBytes: layerBytes.map((b) => b * MB),
      headBytes: 2.39 * MB,
      runtimeBytes: 16.78 * MB,
      heapPerByte: 1.01,
      budgetBytes: 128 * MB,
    });
    expect(plan.fits).toBe(true);
    expect(plan.layers).toEqual([2, 2, 2, 3, 3]);
    expect(plan.estimatedPeakBytes).toBeLessThanOrEqual(128 * MB);
  });
});
