/**
 * The numbers of an evaluation, from the per-image cosines:
 * - the aggregate is torchmetrics' `CLIPScore`, `max(mean(100 * cos), 0)` (the clamp after
 *   the mean, as `/v1/score`'s `aggregate.clip_score` and `clip-edge score` report it);
 * - its 95% interval is a percentile bootstrap: `resamples` resamples of the images with
 *   replacement, drawn from a seeded PRNG (mulberry32), the aggregate of each, and the
 *   2.5th and 97.5th percentiles of those (linear interpolation between order statistics,
 *   numpy's default). Same cosines and seed, same interval;
 * - per prompt: the count, the aggregate over that prompt's images and the mean of their
 *   per-image CLIP scores `100 * max(cos, 0)`;
 * - a histogram of the per-image CLIP scores.
 */
import { clipScoreAggregateOfCosines } from "../../conditioning/scoring/clip-score.ts";

export interface BootstrapInterval {
  low: number;
  high: number;
  level: number;
  resamples: number;
  seed: number;
  method: "percentile";
}

export interface PromptStats {
  prompt: string;
  n: number;
  clip_score: number;
  clip_score_mean: number;
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** mulberry32: a small, well-mixed 32-bit PRNG; uniform floats in [0, 1). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Percentile `q` in [0, 1] of sorted values (numpy "linear"). */
export function percentile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function bootstrapInterval(
  cosines: readonly number[],
  options: { resamples?: number; seed?: number; level?: number } = {},
): BootstrapInterval {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  const random = createRandom(seed);
  const n = cosines.length;
  const stats: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += cosines[Math.floor(random() * n)];
    stats.push(Math.max((100 * sum) / n, 0));
  }
  stats.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    low: percentile(stats, tail),
    high: percentile(stats, 1 - tail),
    level,
    resamples,
    seed,
    method: "percentile",
  };
}

/** Per-prompt numbers, in order of first appearance. */
export function perPromptStats(rows: readonly { prompt: string; cosine: number }[]): PromptStats[] {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const list = groups.get(r.prompt) ?? [];
    list.push(r.cosine);
    groups.set(r.prompt, list);
  }
  return [...groups].map(([prompt, cos]) => ({
    prompt,
    n: cos.length,
    clip_score: clipScoreAggregateOfCosines(cos),
    clip_score_mean: cos.reduce((s, c) => s + 100 * Math.max(c, 0), 0) / cos.length,
  }));
}

/** `bins` equal-width bins over [min, max] of the values (the last bin includes max). */
export function histogram(values: readonly number[], bins = 20): HistogramBin[] {
  if (values.length === 0) return [];
  let min = values.reduce((a, v) => Math.min(a, v), Infinity);
  let max = values.reduce((a, v) => Math.max(a, v), -Infinity);
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  const width = (max - min) / bins;
  const out = Array.from({ length: bins }, (_, i) => ({
    from: min + i * width,
    to: min + (i + 1) * width,
    count: 0,
  }));
  for (const v of values) out[Math.min(Math.floor((v - min) / width), bins - 1)].count++;
  return out;
}
