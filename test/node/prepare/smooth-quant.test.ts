import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { captureCalibration, runTextOutputs } from "../../../node/prepare/calibration-capture.ts";
import { calibrationSet } from "../../../node/prepare/calibration-ids.ts";
import { estimateSensitivity } from "../../../node/prepare/precision-guard.ts";
import { readCheckpoint } from "../../../node/prepare/read-checkpoint.ts";
import { openMeasurementSession } from "../../../node/prepare/reference-session.ts";
import { applySmoothing } from "../../../node/prepare/smooth-quant.ts";
import { buildTextGraph } from "../../../node/prepare/text-graph.ts";
import { loadTextWeights } from "../../../node/prepare/tower-weights.ts";
import {
  TINY_OUTLIER_TEXT,
  writeOutlierCheckpoint,
} from "../../../node/synthetic/outlier-checkpoint.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-smooth-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("SmoothQuant smoothing", () => {
  writeOutlierCheckpoint(tmp, { text: TINY_OUTLIER_TEXT, projectionDim: 48 });
  const ck = readCheckpoint(tmp);
  const cfg = ck.config.text!;
  const weights = loadTextWeights(ck.tensors, cfg, ck.config.projectionDim);
  const input = calibrationSet(undefined, 49407, cfg.maxPositions, cfg.vocabSize);

  it("is an exact rewrite in fp32 and lowers the int8 error of the outlier Linears", async () => {
    const cap = await captureCalibration(cfg, weights, input, openMeasurementSession);
    const { sensitivity, factors } = estimateSensitivity(cfg, weights, cap, {
      smoothing: "all",
      alpha: 0.5,
      split: false,
    });
    expect([...factors.keys()].sort()).toEqual([
      "layer0.fc1",
      "layer0.qkv",
      "layer1.fc1",
      "layer1.qkv",
    ]);
    // The factors are far from 1 on the outlier channels: the rewrite is not a no-op.
    const s = factors.get("layer0.qkv")!;
    expect(Math.max(...s) / Math.min(...s)).toBeGreaterThan(5);
    for (const name of factors.keys()) {
      expect(sensitivity[name].smoothed!).toBeLessThan(sensitivity[name].int8);
    }
    const smoothed = applySmoothing(weights, factors);
    const open = async (w: typeof weights) =>
      openMeasurementSession(
        buildTextGraph(cfg, w, { quantization: "fp32", hiddenStates: 0 }).model,
        "fp32",
      );
    const a = await runTextOutputs(await open(weights), input);
    const b = await runTextOutputs(await open(smoothed), input);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < a.lastHidden.length; i++) {
      scale = Math.max(scale, Math.abs(a.lastHidden[i]));
      diff = Math.max(diff, Math.abs(a.lastHidden[i] - b.lastHidden[i]));
    }
    expect(diff / scale).toBeLessThanOrEqual(1e-5);
    for (let i = 0; i < a.embeds.length; i++) {
      expect(Math.abs(a.embeds[i] - b.embeds[i])).toBeLessThanOrEqual(1e-5);
    }
  });
});
