import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PrecisionGuardReport } from "../../conditioning/bundle/manifest.ts";
import { calibrationSet, type PromptTokenizer } from "./calibration-ids.ts";
import { readCalibrationFile } from "./calibration-prompts.ts";
import type { TextConfig } from "./clip-config.ts";
import type { LinearEmitter } from "./linear-emitters.ts";
import { type GuardOptions, planTextPrecision } from "./precision-guard.ts";
import type { TextTowerWeights } from "./tower-weights.ts";

/** The user's calibration prompts, copied into the bundle so `verify` can recompute the guard. */
export const CALIBRATION_FILE = "calibration.jsonl";

export interface GuardStepOptions extends Omit<GuardOptions, "log" | "open"> {
  /** `--calibration FILE`: extra prompts (JSON Lines {"text"} or one prompt per line). */
  calibrationFile?: string;
}

export interface GuardStep {
  weights: TextTowerWeights;
  linear: LinearEmitter;
  report: PrecisionGuardReport;
}

/** prepare's guard step for an int8 text tower: calibration set -> plan + report. */
export async function runGuardStep(
  cfg: TextConfig,
  weights: TextTowerWeights,
  tokenizer: PromptTokenizer | undefined,
  padId: number,
  out: string,
  options: GuardStepOptions,
  log: (line: string) => void,
): Promise<GuardStep> {
  const extra = options.calibrationFile ? readCalibrationFile(options.calibrationFile) : [];
  if (extra.length > 0 && !tokenizer) {
    log("warning: --calibration needs the checkpoint's tokenizer; its prompts are not used");
  }
  const set = calibrationSet(
    tokenizer,
    padId,
    cfg.maxPositions,
    cfg.vocabSize,
    tokenizer ? extra : [],
  );
  const usedExtra = tokenizer && extra.length > 0;
  if (usedExtra) {
    writeFileSync(
      join(out, CALIBRATION_FILE),
      `${extra.map((text) => JSON.stringify({ text })).join("\n")}\n`,
    );
  }
  log(`guard: calibrating on ${set.ids.length} prompts`);
  const outcome = await planTextPrecision(cfg, weights, set, { ...options, log });
  return {
    weights: outcome.weights,
    linear: outcome.linear,
    report: {
      ...outcome.report,
      calibration: {
        prompts: set.ids.length,
        sha256: set.sha256,
        builtin: set.builtin,
        ...(usedExtra ? { file: CALIBRATION_FILE } : {}),
      },
    },
  };
}
