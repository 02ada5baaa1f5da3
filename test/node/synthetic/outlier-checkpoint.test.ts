import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { captureCalibration } from "../../../node/prepare/calibration-capture.ts";
import { calibrationSet } from "../../../node/prepare/calibration-ids.ts";
import { readCheckpoint } from "../../../node/prepare/read-checkpoint.ts";
import { openMeasurementSession } from "../../../node/prepare/reference-session.ts";
import { buildTextGraph } from "../../../node/prepare/text-graph.ts";
import { loadTextWeights } from "../../../node/prepare/tower-weights.ts";
import {
  TINY_OUTLIER_TEXT,
  writeOutlierCheckpoint,
} from "../../../node/synthetic/outlier-checkpoint.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-outlier-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const median = (a: Float32Array) => [...a].sort((x, y) => x - y)[a.length >> 1];

describe("outlier synthetic checkpoint", () => {
  const layout = writeOutlierCheckpoint(tmp, { text: TINY_OUTLIER_TEXT, projectionDim: 48 });
  const ck = readCheckpoint(tmp);
  const cfg = ck.config.text!;
  const weights = loadTextWeights(ck.tensors, cfg, ck.config.projectionDim);
  const input = calibrationSet(undefined, 49407, cfg.maxPositions, cfg.vocabSize);

  it("has massive residual activations at position 0 in its few massive channels", async () => {
    const g = buildTextGraph(cfg, weights, { quantization: "fp32", hiddenStates: 3 });
    const s = await openMeasurementSession(g.model, "fp32");
    const ids = BigInt64Array.from(input.ids[0], (v) => BigInt(v));
    const out = await s.run({ input_ids: s.tensor("int64", ids, [1, cfg.maxPositions]) }, [
      "hidden_states_1",
    ]);
    await s.release();
    const h = out.hidden_states_1.data as Float32Array; // residual stream after the last layer
    const w = cfg.hiddenSize;
    let rest = 0;
    for (let t = 0; t < cfg.maxPositions; t++) {
      for (let j = 0; j < w; j++) {
        if (t === 0 && layout.massiveChannels.includes(j)) continue;
        rest = Math.max(rest, Math.abs(h[t * w + j]));
      }
    }
    expect(layout.massiveChannels.length).toBe(3);
    for (const c of layout.massiveChannels) expect(Math.abs(h[c])).toBeGreaterThan(10 * rest);
  });

  it("its LayerNorm outputs have high-gain channels and its MLPs hot units", async () => {
    const cap = await captureCalibration(cfg, weights, input, openMeasurementSession);
    for (let l = 0; l < cfg.numLayers; l++) {
      const ln1 = cap.linears.get(`layer${l}.qkv`)!.actMax;
      const ln2 = cap.linears.get(`layer${l}.fc1`)!.actMax;
      const act = cap.linears.get(`layer${l}.fc2`)!.actMax;
      for (const c of layout.gainChannels[l].ln1) expect(ln1[c]).toBeGreaterThan(5 * median(ln1));
      for (const c of layout.gainChannels[l].ln2) expect(ln2[c]).toBeGreaterThan(5 * median(ln2));
      for (const u of layout.hotUnits[l]) expect(act[u]).toBeGreaterThan(5 * median(act));
    }
  });
});
