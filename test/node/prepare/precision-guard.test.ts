import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CalibrationCapture,
  captureCalibration,
} from "../../../node/prepare/calibration-capture.ts";
import { calibrationSet } from "../../../node/prepare/calibration-ids.ts";
import { planTextPrecision } from "../../../node/prepare/precision-guard.ts";
import { readCheckpoint } from "../../../node/prepare/read-checkpoint.ts";
import { openMeasurementSession } from "../../../node/prepare/reference-session.ts";
import { loadTextWeights } from "../../../node/prepare/tower-weights.ts";
import {
  TINY_OUTLIER_TEXT,
  writeOutlierCheckpoint,
} from "../../../node/synthetic/outlier-checkpoint.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-guard-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The guard's budgets on the tiny outlier model: split columns and fp32 Linears share the
 * byte cap, residual Linears the multiply-add share; strict targets make it spend them.
 */
describe("accuracy guard budgets", () => {
  writeOutlierCheckpoint(tmp, { text: TINY_OUTLIER_TEXT, projectionDim: 48 });
  const ck = readCheckpoint(tmp);
  const cfg = ck.config.text!;
  const weights = loadTextWeights(ck.tensors, cfg, ck.config.projectionDim);
  const input = calibrationSet(undefined, 49407, cfg.maxPositions, cfg.vocabSize);
  const strict = { minTokenCosine: 0.999999, minEmbedCosine: 0.999999 };
  let capture: CalibrationCapture;
  beforeAll(async () => {
    capture = await captureCalibration(cfg, weights, input, openMeasurementSession);
  }, 60_000);
  const macs = (names: string[]) =>
    names.reduce((n, name) => n + capture.linears.get(name)!.weightCount, 0);
  const named = (plan: Record<string, string>, kind: string) =>
    Object.keys(plan).filter((n) => plan[n] === kind);

  it("spends the residual share on the most sensitive Linears, no bytes, when the cap is 0", async () => {
    const maxResidualShare = 0.3;
    const { report } = await planTextPrecision(cfg, weights, input, {
      ...strict,
      capture,
      maxFp32Bytes: 0,
      maxResidualShare,
    });
    const residual = named(report.plan, "int8-residual");
    expect(residual.length).toBeGreaterThan(0);
    expect(named(report.plan, "fp32")).toEqual([]);
    expect(named(report.plan, "int8-split")).toEqual([]);
    const total = macs([...capture.linears.keys()]);
    expect(report.residualBudget!.usedShare).toBeCloseTo(macs(residual) / total, 9);
    expect(report.residualBudget!.usedShare).toBeLessThanOrEqual(maxResidualShare);
    expect(report.fp32Budget).toMatchObject({ maxBytes: 0, usedBytes: 0 });
    for (const name of residual) {
      const s = report.sensitivity[name];
      expect(s.residual!).toBeLessThan(s.int8);
    }
  }, 120_000);

  it("counts split columns against the byte cap and uses no residual pass at share 0", async () => {
    const maxFp32Bytes = 20_000;
    const { report } = await planTextPrecision(cfg, weights, input, {
      ...strict,
      capture,
      maxFp32Bytes,
      maxResidualShare: 0,
    });
    expect(named(report.plan, "int8-residual")).toEqual([]);
    expect(report.residualBudget).toBeUndefined();
    const splits = report.splitChannels ?? {};
    expect(Object.keys(splits).length).toBeGreaterThan(0);
    let bytes = 0;
    for (const [name, channels] of Object.entries(splits)) {
      const c = capture.linears.get(name)!;
      expect(channels.length).toBeLessThanOrEqual(8);
      bytes += 4 * channels.length * (c.weightCount / c.inFeatures);
    }
    for (const name of named(report.plan, "fp32"))
      bytes += 3 * capture.linears.get(name)!.weightCount;
    expect(report.fp32Budget!.usedBytes).toBe(bytes);
    expect(bytes).toBeLessThanOrEqual(maxFp32Bytes);
  }, 120_000);
});
