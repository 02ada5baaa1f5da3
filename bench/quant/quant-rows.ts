import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LinearPrecision, PrecisionGuardReport } from "../../conditioning/bundle/manifest.ts";
import { loadTokenizerFromDir } from "../../node/prepare/bundle-tokenizer.ts";
import {
  type CalibrationIds,
  captureCalibration,
  runTextOutputs,
  type TextOutputs,
} from "../../node/prepare/calibration-capture.ts";
import { calibrationSet } from "../../node/prepare/calibration-ids.ts";
import type { TextConfig } from "../../node/prepare/clip-config.ts";
import {
  int8Linear,
  int8PerTensorLinear,
  type LinearEmitter,
} from "../../node/prepare/linear-emitters.ts";
import { plannedLinear, plannedWeights } from "../../node/prepare/planned-linear.ts";
import {
  type GuardOptions,
  linearParams,
  planTextPrecision,
} from "../../node/prepare/precision-guard.ts";
import { readCheckpoint } from "../../node/prepare/read-checkpoint.ts";
import { openMeasurementSession } from "../../node/prepare/reference-session.ts";
import { applySmoothing, isSmoothable, smoothingFactors } from "../../node/prepare/smooth-quant.ts";
import { buildTextGraph } from "../../node/prepare/text-graph.ts";
import { loadTextWeights, type TextTowerWeights } from "../../node/prepare/tower-weights.ts";
import {
  TINY_OUTLIER_TEXT,
  writeOutlierCheckpoint,
} from "../../node/synthetic/outlier-checkpoint.ts";
import { CLIP_L14_TEXT } from "../../node/synthetic/synthetic-checkpoint.ts";

/** Bump when the guard or the lowerings change what a cached plan means. */
const PLAN_CACHE_VERSION = 2;

export interface QuantRow {
  id: string;
  label: string;
  weights: TextTowerWeights;
  linear: LinearEmitter;
  /** Per-Linear precision (the guarded row), for the fp32 count and the cache key. */
  plan?: Record<string, LinearPrecision>;
  fp32Linears: number;
}

export interface QuantSetupOptions {
  dims: "l14" | "tiny";
  /** Held-out PartiPrompts (evenly spaced through the fixtures' list). */
  heldout: number;
  fixtures: string;
  /** Where the guard's plan is kept between runs (it is the slow part). */
  cacheDir: string;
  /** The guarded row's options (as `prepare --quant int8 --edge` sets them). */
  guard: GuardOptions;
  log: (line: string) => void;
}

export interface QuantSetup {
  model: string;
  cfg: TextConfig;
  heldout: CalibrationIds;
  reference: TextOutputs;
  rows: QuantRow[];
  guard: Omit<PrecisionGuardReport, "calibration">;
  calibrationPrompts: number;
  /** Seconds the guard took (in the run that computed the cached plan). */
  guardSeconds: number;
  guardCached: boolean;
}

interface CachedPlan {
  version: number;
  report: Omit<PrecisionGuardReport, "calibration">;
  /** Smoothing factors of the plan's "int8-smooth" Linears. */
  planFactors: Record<string, number[]>;
  /** Factors of every q/k/v and fc1 (the "smoothing, all" row). */
  allFactors: Record<string, number[]>;
  seconds: number;
}

const toMap = (o: Record<string, number[]>) =>
  new Map(Object.entries(o).map(([k, v]) => [k, Float32Array.from(v)]));
const toRecord = (m: ReadonlyMap<string, Float32Array>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, Array.from(v)]));

function heldoutPrompts(fixtures: string, count: number): string[] {
  const parti = readFileSync(join(fixtures, "tokenizer", "cases.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { text: string; source?: string })
    .filter((c) => c.source === "parti")
    .map((c) => c.text);
  const n = Math.min(count, parti.length);
  return Array.from({ length: n }, (_, i) => parti[Math.floor((i * parti.length) / n)]);
}

/**
 * The comparison table's inputs: the outlier-realistic synthetic checkpoint
 * (node/synthetic/outlier-checkpoint.ts) at CLIP-L (or tiny) dims, its fp32
 * outputs on held-out PartiPrompts, and the four int8 rows: per-tensor (the
 * pre-#11 lowering), per-token, per-token + smoothing of every q/k/v and fc1,
 * and the accuracy guard's plan (computed once, then read from the cache).
 */
export async function quantSetup(o: QuantSetupOptions): Promise<QuantSetup> {
  const dims = o.dims === "tiny" ? TINY_OUTLIER_TEXT : CLIP_L14_TEXT;
  const model = `outlier-${o.dims}-text`;
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-outlier-"));
  writeOutlierCheckpoint(dir, { text: dims, projectionDim: o.dims === "tiny" ? 48 : 768 });
  const ck = readCheckpoint(dir);
  rmSync(dir, { recursive: true, force: true });
  const cfg = ck.config.text!;
  const weights = loadTextWeights(ck.tensors, cfg, ck.config.projectionDim);
  const tokenizer = await loadTokenizerFromDir(join(o.fixtures, "vocab"));
  const seq = cfg.maxPositions;
  const heldout = {
    ids: heldoutPrompts(o.fixtures, o.heldout).map(
      (p) => tokenizer.encodeForModel(p, { maxLength: seq, pad: 49407 }).ids,
    ),
    seq,
  };
  const ref = await openMeasurementSession(
    buildTextGraph(cfg, weights, { quantization: "fp32", hiddenStates: 0 }).model,
    "fp32 reference",
  );
  const reference = await runTextOutputs(ref, heldout);
  await ref.release();
  const calibration = calibrationSet(tokenizer, 49407, seq, cfg.vocabSize);

  const { log: _log, open: _open, capture: _capture, ...guardKey } = o.guard;
  const key = createHash("sha256")
    .update(
      JSON.stringify({
        v: PLAN_CACHE_VERSION,
        dims: o.dims,
        calibration: calibration.sha256,
        guardKey,
      }),
    )
    .digest("hex")
    .slice(0, 16);
  const planPath = join(o.cacheDir, model, `guard-plan-${key}.json`);
  let cached: CachedPlan | undefined;
  if (existsSync(planPath)) {
    const c = JSON.parse(readFileSync(planPath, "utf8")) as CachedPlan;
    if (c.version === PLAN_CACHE_VERSION) cached = c;
  }
  const guardCached = cached !== undefined;
  if (!cached) {
    const t0 = performance.now();
    const capture = await captureCalibration(cfg, weights, calibration, openMeasurementSession);
    o.log(`captured calibration activations in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const outcome = await planTextPrecision(cfg, weights, calibration, {
      ...o.guard,
      log: o.log,
      capture,
    });
    const all = new Map<string, Float32Array>();
    for (const [name, c] of capture.linears) {
      if (isSmoothable(name))
        all.set(name, smoothingFactors(c.actMax, [linearParams(cfg, weights, name)]));
    }
    cached = {
      version: PLAN_CACHE_VERSION,
      report: outcome.report,
      planFactors: toRecord(outcome.factors),
      allFactors: toRecord(all),
      seconds: (performance.now() - t0) / 1000,
    };
    mkdirSync(join(o.cacheDir, model), { recursive: true });
    writeFileSync(planPath, `${JSON.stringify(cached)}\n`);
  }
  const plan = cached.report.plan;
  const rows: QuantRow[] = [
    {
      id: "int8-tensor",
      label: "per-tensor int8 (before #11)",
      weights,
      linear: int8PerTensorLinear,
      fp32Linears: 0,
    },
    { id: "int8-token", label: "per-token int8", weights, linear: int8Linear, fp32Linears: 0 },
    {
      id: "int8-smooth",
      label: "per-token int8 + smoothing (all q/k/v, fc1)",
      weights: applySmoothing(weights, toMap(cached.allFactors)),
      linear: int8Linear,
      fp32Linears: 0,
    },
    {
      id: `int8-guarded-${key.slice(0, 8)}`,
      label: "guarded plan (prepare --edge defaults)",
      weights: plannedWeights(weights, plan, toMap(cached.planFactors)),
      linear: plannedLinear(plan, undefined, cached.report.splitChannels ?? {}),
      plan,
      fp32Linears: cached.report.fp32Linears,
    },
  ];
  return {
    model,
    cfg,
    heldout,
    reference,
    rows,
    guard: cached.report,
    calibrationPrompts: calibration.ids.length,
    guardSeconds: cached.seconds,
    guardCached,
  };
}
