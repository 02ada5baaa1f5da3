import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  clipScoreAggregate,
  clipScoreAggregateOfCosines,
} from "../../../conditioning/scoring/clip-score.ts";
import { cosineSimilarity } from "../../../conditioning/scoring/normalize.ts";
import {
  bootstrapInterval,
  createRandom,
  histogram,
  percentile,
  perPromptStats,
} from "../../../node/eval/eval-stats.ts";
import { pythonWithNumpy } from "../../helpers/python.ts";

function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => random() - 0.4));
}

describe("eval stats", () => {
  it("the aggregate of cosines is the project's torchmetrics aggregate of the vectors", () => {
    const images = randomVectors(40, 16, 1);
    const texts = randomVectors(40, 16, 2);
    const cosines = images.map((v, i) => cosineSimilarity(v, texts[i]));
    const pairs = images.map((v, i) => ({ imageEmbeds: v, textEmbeds: texts[i] }));
    expect(clipScoreAggregateOfCosines(cosines)).toBe(clipScoreAggregate(pairs));
    // Clamped after the mean: one negative pair lowers it.
    expect(clipScoreAggregateOfCosines([0.3, -0.1])).toBeCloseTo(10, 12);
    expect(clipScoreAggregateOfCosines([-0.3, 0.1])).toBe(0);
  });

  it("percentile is numpy's linear percentile", () => {
    const values = Array.from({ length: 37 }, (_, i) => Math.sin(i) * 10).sort((a, b) => a - b);
    const qs = [0, 0.025, 0.5, 0.975, 1];
    const numpy = JSON.parse(
      execFileSync(pythonWithNumpy(), [
        "-c",
        `import json,sys,numpy as np; v=json.loads(sys.argv[1]); print(json.dumps([float(np.percentile(v, q*100)) for q in ${JSON.stringify(qs)}]))`,
        JSON.stringify(values),
      ]).toString(),
    ) as number[];
    qs.forEach((q, i) => {
      expect(percentile(values, q)).toBeCloseTo(numpy[i], 10);
    });
  });

  it("bootstrap: same seed same interval, another seed another; it brackets the aggregate and narrows with n", () => {
    const random = createRandom(5);
    const cosines = Array.from({ length: 400 }, () => 0.2 + 0.1 * (random() - 0.5));
    const a = bootstrapInterval(cosines, { seed: 3 });
    expect(bootstrapInterval(cosines, { seed: 3 })).toEqual(a);
    expect(bootstrapInterval(cosines, { seed: 4 }).low).not.toBe(a.low);
    const agg = clipScoreAggregateOfCosines(cosines);
    expect(a.low).toBeLessThan(agg);
    expect(a.high).toBeGreaterThan(agg);
    // Standard error of the mean of U(-0.05, 0.05) * 100 over n=400: 2.887/20 = 0.144; 95% ~ +-0.283.
    expect(a.high - a.low).toBeGreaterThan(0.4);
    expect(a.high - a.low).toBeLessThan(0.75);
    const small = bootstrapInterval(cosines.slice(0, 25), { seed: 3 });
    expect(small.high - small.low).toBeGreaterThan(a.high - a.low);
    expect(a).toMatchObject({ level: 0.95, resamples: 1000, seed: 3, method: "percentile" });
  });

  it("per-prompt numbers and the histogram", () => {
    const stats = perPromptStats([
      { prompt: "a", cosine: 0.2 },
      { prompt: "b", cosine: -0.1 },
      { prompt: "a", cosine: 0.4 },
      { prompt: "b", cosine: 0.3 },
    ]);
    expect(stats.map((s) => s.prompt)).toEqual(["a", "b"]);
    expect(stats[0].n).toBe(2);
    expect(stats[0].clip_score).toBeCloseTo(30, 10);
    expect(stats[1].clip_score).toBeCloseTo(10, 10);
    expect(stats[1].clip_score_mean).toBeCloseTo(15, 10);
    const bins = histogram([0, 1, 2, 3, 10], 5);
    expect(bins.map((b) => b.count)).toEqual([2, 2, 0, 0, 1]);
    expect(bins[4].to).toBe(10);
    expect(histogram([5, 5], 4).reduce((s, b) => s + b.count, 0)).toBe(2);
  });
});
