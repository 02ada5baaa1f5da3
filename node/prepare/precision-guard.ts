import type { LinearPrecision, PrecisionGuardReport } from "../../conditioning/bundle/manifest.ts";
import {
  type CalibrationCapture,
  type CalibrationIds,
  captureCalibration,
  runTextOutputs,
  type TextOutputs,
} from "./calibration-capture.ts";
import type { TextConfig } from "./clip-config.ts";
import { fusedQkv } from "./encoder-layer.ts";
import type { LinearEmitter } from "./linear-emitters.ts";
import { int8RowError } from "./linear-sensitivity.ts";
import { plannedLinear, plannedWeights } from "./planned-linear.ts";
import { compareRows } from "./quant-report.ts";
import { openMeasurementSession, type SessionOpener } from "./reference-session.ts";
import { DEFAULT_SMOOTHING_ALPHA, isSmoothable, smoothingFactors } from "./smooth-quant.ts";
import { largestChannels } from "./split-linear.ts";
import { buildTextGraph } from "./text-graph.ts";
import type { LinearParams, TextTowerWeights } from "./tower-weights.ts";

export const DEFAULT_MIN_TOKEN_COSINE = 0.999;
export const DEFAULT_MIN_EMBED_COSINE = 0.9995;
/**
 * Share of each target's error budget (1 - target) the search keeps in
 * reserve for prompts outside the calibration set: with 0.2 it aims at
 * 1 - 0.8 * (1 - target), e.g. 0.9992 for a 0.999 target.
 */
export const DEFAULT_GUARD_MARGIN = 0.2;
/**
 * fp32 weight bytes a plan may add under `prepare --edge` (`--guard-max-fp32-mb 4`): what a
 * 128 MB isolate spares beside CLIP-L per-token int8 --edge (~106 MB of WASM heap).
 */
export const EDGE_MAX_FP32_BYTES = 4e6;
/** Input channels an outlier-channel split computes in fp32 (4 bytes x outFeatures each). */
export const DEFAULT_SPLIT_CHANNELS = 8;
/** Share of the Linears' multiply-adds the residual pass may repeat (its latency cost). */
export const DEFAULT_MAX_RESIDUAL_SHARE = 0.1;
/** A split must beat the best unsplit lowering's estimate by this factor to be chosen. */
const SPLIT_GAIN = 0.9;

/** "auto": smooth a q/k/v or fc1 Linear when it lowers its estimated int8 error. */
export type SmoothingMode = "auto" | "all" | "off";

export interface GuardOptions {
  minTokenCosine?: number;
  minEmbedCosine?: number;
  smoothing?: SmoothingMode;
  alpha?: number;
  /** Error-budget share kept in reserve (default DEFAULT_GUARD_MARGIN). */
  margin?: number;
  /** Split each Linear's largest input channels out to fp32 where that helps (default true). */
  split?: boolean;
  /** Input channels a split takes out (the largest by calibration max; default DEFAULT_SPLIT_CHANNELS). */
  splitChannels?: number;
  /**
   * Share of the Linears' multiply-adds that "int8-residual" Linears may run a second
   * time (default DEFAULT_MAX_RESIDUAL_SHARE; 0 turns the residual pass off).
   */
  maxResidualShare?: number;
  /** Sampled rows per Linear for the sensitivity estimate (default 64). */
  sampleRows?: number;
  /** Cap on end-to-end evaluations of the search (default 10). */
  maxEvaluations?: number;
  /**
   * Cap on the weight bytes that Linears restored to fp32 may add over int8 (3 bytes per
   * weight). Under a cap the search walks the ranking and takes each Linear that still fits
   * (a big fc1 may be passed over for a smaller out_proj); when that is
   * not enough the report says so (`fp32Budget.limited`, `met: false`). Default: no cap.
   */
  maxFp32Bytes?: number;
  /** Token table of the graphs the plan is for: int8 (also external-int8) or fp32 (default int8). */
  tokenEmbedding?: "int8" | "fp32";
  /** The quantised lowering (default per-token int8). */
  quantized?: LinearEmitter;
  open?: SessionOpener;
  log?: (line: string) => void;
  /** A capture of these weights over these ids, when the caller already has one. */
  capture?: CalibrationCapture;
}

export interface PlanAccuracy {
  tokenCosineMin: number;
  tokenCosineMean: number;
  embedsCosineMin: number;
}

export interface GuardOutcome {
  /** Weights to build the int8 graphs from (smoothed where the plan says so). */
  weights: TextTowerWeights;
  /** Linear lowering that follows the plan. */
  linear: LinearEmitter;
  /** Smoothing factors of the plan's smoothed Linears ("int8-smooth", smoothed splits; plannedWeights rebuilds `weights`). */
  factors: Map<string, Float32Array>;
  report: Omit<PrecisionGuardReport, "calibration">;
}

function usedSplits(
  plan: Record<string, LinearPrecision>,
  splits: Record<string, number[]>,
): Record<string, number[]> | undefined {
  const used = Object.entries(splits).filter(([name]) => plan[name] === "int8-split");
  return used.length > 0 ? Object.fromEntries(used) : undefined;
}

/** The Linear named `layer<i>.<kind>` as the graph builder emits it. */
export function linearParams(cfg: TextConfig, w: TextTowerWeights, name: string): LinearParams {
  const [, index, kind] = /^layer(\d+)\.(\w+)$/.exec(name) ?? [];
  const layer = w.layers[Number(index)];
  if (kind === "qkv") return fusedQkv(layer, (cfg.hiddenSize / cfg.numHeads) ** -0.5);
  if (kind === "out_proj") return layer.out;
  return kind === "fc1" ? layer.fc1 : layer.fc2;
}

/** The int8 graph of a plan vs the fp32 reference outputs on the calibration ids. */
export async function evaluatePlan(
  cfg: TextConfig,
  weights: TextTowerWeights,
  linear: LinearEmitter,
  input: CalibrationIds,
  reference: TextOutputs,
  open: SessionOpener = openMeasurementSession,
  tokenEmbedding: "int8" | "fp32" = "int8",
): Promise<PlanAccuracy> {
  const built = buildTextGraph(cfg, weights, {
    quantization: "int8",
    hiddenStates: 0,
    tokenEmbedding,
    linear,
  });
  const session = await open(built.model, "text int8 candidate");
  const got = await runTextOutputs(session, input);
  await session.release();
  const tokens = compareRows(reference.lastHidden, got.lastHidden, cfg.hiddenSize);
  const embeds = compareRows(
    reference.embeds,
    got.embeds,
    reference.embeds.length / input.ids.length,
  );
  return {
    tokenCosineMin: tokens.cosineMin,
    tokenCosineMean: tokens.cosineMean,
    embedsCosineMin: embeds.cosineMin,
  };
}

export interface SensitivityOptions {
  smoothing: SmoothingMode;
  alpha: number;
  split?: boolean;
  splitChannels?: number;
  residual?: boolean;
}

/**
 * Per Linear: estimated error of each lowering the guard can give it without fp32
 * weights (per-token int8; smoothed, for q/k/v and fc1; split, its largest input
 * channels in fp32, smoothed too where that is lower; residual, a second int8 pass),
 * and the free base lowering it starts from (int8, or smoothed where that is lower).
 * Split and residual cost bytes, ops and GEMM work: the search spends them, like
 * fp32, only on the most sensitive Linears (`splits` holds each one's channels).
 */
export function estimateSensitivity(
  cfg: TextConfig,
  w: TextTowerWeights,
  capture: CalibrationCapture,
  o: SensitivityOptions,
) {
  const sensitivity: Record<
    string,
    { int8: number; smoothed?: number; split?: number; residual?: number }
  > = {};
  /** Smoothing factors of every q/k/v and fc1 the estimates smoothed. */
  const factors = new Map<string, Float32Array>();
  const splits: Record<string, number[]> = {};
  const smoothedSplit: string[] = [];
  const base: Record<string, LinearPrecision> = {};
  const k = o.splitChannels ?? DEFAULT_SPLIT_CHANNELS;
  for (const [name, c] of capture.linears) {
    const p = linearParams(cfg, w, name);
    const int8 = int8RowError(c.sample, c.rows, p);
    const est: (typeof sensitivity)[string] = { int8 };
    sensitivity[name] = est;
    let best = int8;
    let s: Float32Array | undefined;
    base[name] = "int8";
    if (o.smoothing !== "off" && isSmoothable(name)) {
      s = smoothingFactors(c.actMax, [p], o.alpha);
      est.smoothed = int8RowError(c.sample, c.rows, p, s);
      if (o.smoothing === "all" || est.smoothed < int8) {
        best = est.smoothed;
        base[name] = "int8-smooth";
      }
    }
    if (o.split !== false && k > 0) {
      const plain = largestChannels(c.actMax, k);
      let split = int8RowError(c.sample, c.rows, p, undefined, plain);
      let channels = plain;
      let smoothed = false;
      if (s) {
        const both = largestChannels(c.actMax, k, s);
        const e = int8RowError(c.sample, c.rows, p, s, both);
        if (e < split) [split, channels, smoothed] = [e, both, true];
      }
      est.split = split;
      if (split < SPLIT_GAIN * best) {
        splits[name] = channels;
        if (smoothed) smoothedSplit.push(name);
      }
    }
    if (s) factors.set(name, s);
    if (o.residual !== false) est.residual = int8RowError(c.sample, c.rows, p, undefined, [], true);
  }
  return { sensitivity, factors, splits, smoothedSplit, base };
}

/**
 * prepare's accuracy guard: runs the fp32 graph over the calibration ids,
 * estimates each Linear's error on the captured inputs in every lowering
 * (estimateSensitivity), starts from the free base (int8 or smoothed), then upgrades
 * the most sensitive Linears (split, residual or fp32, within the byte cap and the
 * multiply-add share) — the shortest prefix of the sensitivity ranking, found by
 * doubling then bisection, each candidate confirmed end to end — until the worst
 * token cosine of last_hidden_state and the worst embeds cosine meet the targets.
 */
export async function planTextPrecision(
  cfg: TextConfig,
  weights: TextTowerWeights,
  input: CalibrationIds,
  options: GuardOptions = {},
): Promise<GuardOutcome> {
  const log = options.log ?? (() => {});
  const open = options.open ?? openMeasurementSession;
  const targets = {
    tokenCosineMin: options.minTokenCosine ?? DEFAULT_MIN_TOKEN_COSINE,
    embedsCosineMin: options.minEmbedCosine ?? DEFAULT_MIN_EMBED_COSINE,
  };
  const margin = options.margin ?? DEFAULT_GUARD_MARGIN;
  const aim = {
    tokenCosineMin: 1 - (1 - margin) * (1 - targets.tokenCosineMin),
    embedsCosineMin: 1 - (1 - margin) * (1 - targets.embedsCosineMin),
  };
  const alpha = options.alpha ?? DEFAULT_SMOOTHING_ALPHA;
  const capture =
    options.capture ?? (await captureCalibration(cfg, weights, input, open, options.sampleRows));
  const est = estimateSensitivity(cfg, weights, capture, {
    smoothing: options.smoothing ?? "auto",
    alpha,
    split: options.split,
    splitChannels: options.splitChannels,
    residual: (options.maxResidualShare ?? DEFAULT_MAX_RESIDUAL_SHARE) > 0,
  });
  const { sensitivity, factors, splits, base } = est;
  const errorOf = (name: string) =>
    base[name] === "int8-smooth" ? sensitivity[name].smoothed! : sensitivity[name].int8;
  const info = (name: string) => capture.linears.get(name)!;
  const splitBytes = (name: string) =>
    (4 * splits[name].length * info(name).weightCount) / info(name).inFeatures;
  const maxBytes = options.maxFp32Bytes ?? Number.POSITIVE_INFINITY;
  const sorted = Object.keys(base).sort((x, y) => errorOf(y) - errorOf(x));
  // Upgrades, most sensitive Linear first, each to the cheapest lowering that helps and
  // fits: a split (a few fp32 columns) where it is SPLIT_GAIN better, else a residual
  // pass while the multiply-add share allows (no bytes), else fp32 while the byte cap
  // allows (a big fc1 may be passed over for a smaller out_proj); else left as it is.
  const maxShare = options.maxResidualShare ?? DEFAULT_MAX_RESIDUAL_SHARE;
  const totalMacs = [...capture.linears.values()].reduce((n, c) => n + c.weightCount, 0);
  const steps: { name: string; to: LinearPrecision }[] = [];
  let bytes = 0;
  let share = 0;
  const used = [{ bytes, share }];
  for (const name of sorted) {
    const wc = info(name).weightCount;
    const residual = sensitivity[name].residual;
    if (splits[name] && bytes + splitBytes(name) <= maxBytes) {
      bytes += splitBytes(name);
      steps.push({ name, to: "int8-split" });
    } else if (
      residual !== undefined &&
      residual < errorOf(name) &&
      share + wc / totalMacs <= maxShare
    ) {
      share += wc / totalMacs;
      steps.push({ name, to: "int8-residual" });
    } else if (bytes + 3 * wc <= maxBytes) {
      bytes += 3 * wc;
      steps.push({ name, to: "fp32" });
    } else continue;
    used.push({ bytes, share });
  }
  // The factors a plan's graph uses: its "int8-smooth" Linears and its smoothed splits.
  const planFactors = (plan: Record<string, LinearPrecision>) =>
    new Map(
      [...factors].filter(
        ([name]) =>
          plan[name] === "int8-smooth" ||
          (plan[name] === "int8-split" && est.smoothedSplit.includes(name)),
      ),
    );
  const kMax = steps.length;
  const planFor = (k: number) => {
    const plan = { ...base };
    for (const step of steps.slice(0, k)) plan[step.name] = step.to;
    return plan;
  };
  const results = new Map<number, PlanAccuracy>();
  const meets = (a: PlanAccuracy) =>
    a.tokenCosineMin >= aim.tokenCosineMin && a.embedsCosineMin >= aim.embedsCosineMin;
  const evaluate = async (k: number) => {
    const plan = planFor(k);
    const acc = await evaluatePlan(
      cfg,
      plannedWeights(weights, plan, planFactors(plan)),
      plannedLinear(plan, options.quantized, splits),
      input,
      capture.reference,
      open,
      options.tokenEmbedding,
    );
    results.set(k, acc);
    log(
      `guard: ${k} most sensitive Linear(s) upgraded (split, residual or fp32) -> worst token cosine ${acc.tokenCosineMin.toFixed(6)}, ${capture.reference.embedName} ${acc.embedsCosineMin.toFixed(6)}`,
    );
    return meets(acc);
  };
  const maxEvaluations = options.maxEvaluations ?? 10;
  let lo = -1; // largest k known to fail
  let hi = -1; // smallest k known to pass
  for (let k = 0; hi < 0; k = k === 0 ? 1 : Math.min(2 * k, kMax)) {
    if (await evaluate(k)) hi = k;
    else lo = k;
    if (k === kMax) break;
  }
  while (hi >= 0 && hi - lo > 1 && results.size < maxEvaluations) {
    const mid = Math.floor((lo + hi) / 2);
    if (await evaluate(mid)) hi = mid;
    else lo = mid;
  }
  const chosen = hi >= 0 ? hi : kMax;
  const plan = planFor(chosen);
  const achieved = results.get(chosen)!;
  return {
    weights: plannedWeights(weights, plan, planFactors(plan)),
    linear: plannedLinear(plan, options.quantized, splits),
    factors: planFactors(plan),
    report: {
      targets: { ...targets, margin },
      achieved: { ...achieved, embeds: capture.reference.embedName },
      met:
        achieved.tokenCosineMin >= targets.tokenCosineMin &&
        achieved.embedsCosineMin >= targets.embedsCosineMin,
      smoothingAlpha: alpha,
      plan,
      sensitivity,
      ...(usedSplits(plan, splits) ? { splitChannels: usedSplits(plan, splits) } : {}),
      ...(est.smoothedSplit.some((n) => plan[n] === "int8-split")
        ? { smoothedSplit: est.smoothedSplit.filter((n) => plan[n] === "int8-split") }
        : {}),
      fp32Linears: Object.values(plan).filter((x) => x === "fp32").length,
      evaluations: results.size,
      ...(Number.isFinite(maxBytes)
        ? {
            fp32Budget: {
              maxBytes,
              usedBytes: used[chosen].bytes,
              limited: hi < 0 && kMax < sorted.length,
            },
          }
        : {}),
      ...(maxShare > 0 ? { residualBudget: { maxShare, usedShare: used[chosen].share } } : {}),
    },
  };
}
