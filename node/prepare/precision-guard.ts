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
import { outlierChannels } from "./split-linear.ts";
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

/** "auto": smooth a q/k/v or fc1 Linear when it lowers its estimated int8 error. */
export type SmoothingMode = "auto" | "all" | "off";

export interface GuardOptions {
  minTokenCosine?: number;
  minEmbedCosine?: number;
  smoothing?: SmoothingMode;
  alpha?: number;
  /** Error-budget share kept in reserve (default DEFAULT_GUARD_MARGIN). */
  margin?: number;
  /** Split outlier input channels of out_proj / fc2 out to fp32 where that helps (default true). */
  split?: boolean;
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
  /** Smoothing factors of the plan's "int8-smooth" Linears (plannedWeights rebuilds `weights`). */
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

/** Per Linear: estimated int8 error, smoothed error and factors (for smoothable ones). */
export function estimateSensitivity(
  cfg: TextConfig,
  w: TextTowerWeights,
  capture: CalibrationCapture,
  smoothing: SmoothingMode,
  alpha: number,
  split = true,
) {
  const sensitivity: Record<string, { int8: number; smoothed?: number; split?: number }> = {};
  const factors = new Map<string, Float32Array>();
  const splits: Record<string, number[]> = {};
  for (const [name, c] of capture.linears) {
    const p = linearParams(cfg, w, name);
    const int8 = int8RowError(c.sample, c.rows, p);
    sensitivity[name] = { int8 };
    let best = int8;
    if (smoothing !== "off" && isSmoothable(name)) {
      const s = smoothingFactors(c.actMax, [p], alpha);
      const smoothed = int8RowError(c.sample, c.rows, p, s);
      sensitivity[name].smoothed = smoothed;
      if (smoothing === "all" || smoothed < int8) {
        factors.set(name, s);
        best = smoothed;
      }
    }
    // Linears with no LayerNorm to smooth into (out_proj, fc2): split their outlier channels.
    const channels = isSmoothable(name) || !split ? [] : outlierChannels(c.actMax);
    if (channels.length > 0) {
      const e = int8RowError(c.sample, c.rows, p, undefined, channels);
      sensitivity[name].split = e;
      if (e < best) splits[name] = channels;
    }
  }
  return { sensitivity, factors, splits };
}

/**
 * prepare's accuracy guard: runs the fp32 graph over the calibration ids,
 * estimates each Linear's int8 error on the captured inputs (with and without
 * smoothing), then restores the most sensitive Linears to fp32 — the shortest
 * prefix of the sensitivity ranking, found by doubling then bisection, each
 * candidate confirmed end to end — until the worst token cosine of
 * last_hidden_state and the worst embeds cosine meet the targets.
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
  const { sensitivity, factors, splits } = estimateSensitivity(
    cfg,
    weights,
    capture,
    options.smoothing ?? "auto",
    alpha,
    options.split ?? true,
  );
  const base: Record<string, LinearPrecision> = {};
  for (const name of capture.linears.keys()) {
    base[name] = factors.has(name) ? "int8-smooth" : splits[name] ? "int8-split" : "int8";
  }
  const errorOf = (name: string) =>
    base[name] === "int8-smooth"
      ? sensitivity[name].smoothed!
      : base[name] === "int8-split"
        ? sensitivity[name].split!
        : sensitivity[name].int8;
  const sorted = Object.keys(base).sort((a, b) => errorOf(b) - errorOf(a));
  // fp32 costs 4 bytes per weight instead of 1. Under a cap, the candidates are the ranking
  // without the Linears that no longer fit beside the more sensitive ones before them.
  const maxBytes = options.maxFp32Bytes ?? Number.POSITIVE_INFINITY;
  const ranking: string[] = [];
  const extraBytes = [0];
  for (const name of sorted) {
    const next = extraBytes[extraBytes.length - 1] + 3 * capture.linears.get(name)!.weightCount;
    if (next > maxBytes) continue;
    ranking.push(name);
    extraBytes.push(next);
  }
  const kMax = ranking.length;
  const planFor = (k: number) => {
    const plan = { ...base };
    for (const name of ranking.slice(0, k)) plan[name] = "fp32";
    return plan;
  };
  const results = new Map<number, PlanAccuracy>();
  const meets = (a: PlanAccuracy) =>
    a.tokenCosineMin >= aim.tokenCosineMin && a.embedsCosineMin >= aim.embedsCosineMin;
  const evaluate = async (k: number) => {
    const plan = planFor(k);
    const acc = await evaluatePlan(
      cfg,
      plannedWeights(weights, plan, factors),
      plannedLinear(plan, options.quantized, splits),
      input,
      capture.reference,
      open,
      options.tokenEmbedding,
    );
    results.set(k, acc);
    log(
      `guard: ${k} Linear(s) in fp32 -> worst token cosine ${acc.tokenCosineMin.toFixed(6)}, ${capture.reference.embedName} ${acc.embedsCosineMin.toFixed(6)}`,
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
    weights: plannedWeights(weights, plan, factors),
    linear: plannedLinear(plan, options.quantized, splits),
    factors: new Map([...factors].filter(([name]) => plan[name] === "int8-smooth")),
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
      fp32Linears: chosen,
      evaluations: results.size,
      ...(Number.isFinite(maxBytes)
        ? {
            fp32Budget: {
              maxBytes,
              usedBytes: extraBytes[chosen],
              limited: hi < 0 && kMax < sorted.length,
            },
          }
        : {}),
    },
  };
}
