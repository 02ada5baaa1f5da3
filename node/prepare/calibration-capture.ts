import { DataType } from "../onnx/onnx-proto.ts";
import type { TextConfig } from "./clip-config.ts";
import { fp32Linear, type LinearEmitter } from "./linear-emitters.ts";
import type { SessionOpener } from "./reference-session.ts";
import { buildTextGraph } from "./text-graph.ts";
import type { TextTowerWeights } from "./tower-weights.ts";

/** What the fp32 graph's Linears saw on the calibration set. */
export interface LinearCapture {
  inFeatures: number;
  /** Weights of the Linear (out x in), for the guard's fp32 size budget. */
  weightCount: number;
  /** max |x_j| per input channel over every row (batch item x position). */
  actMax: Float32Array;
  /** `rows` sampled input rows, [rows, inFeatures] (row 0 = position 0 of the first prompt). */
  sample: Float32Array;
  rows: number;
}

export interface TextOutputs {
  /** [prompts, seq, W] */
  lastHidden: Float32Array;
  /** [prompts, E] text_embeds, or pooled [prompts, W] without a projection. */
  embeds: Float32Array;
  embedName: "text_embeds" | "pooled";
}

export interface CalibrationCapture {
  linears: Map<string, LinearCapture>;
  reference: TextOutputs;
}

export interface CalibrationIds {
  /** One row of `seq` ids per prompt. */
  ids: number[][];
  seq: number;
}

const BATCH = 8;

/** Runs a text graph over the ids in batches; returns last_hidden_state and embeds. */
export async function runTextOutputs(
  session: Awaited<ReturnType<SessionOpener>>,
  input: CalibrationIds,
  onBatch?: (
    out: Record<string, { data: unknown; dims: readonly number[] }>,
    first: number,
  ) => void,
  extraFetches: string[] = [],
): Promise<TextOutputs> {
  const embedName = session.outputNames.includes("text_embeds") ? "text_embeds" : "pooled";
  const n = input.ids.length;
  let lastHidden = new Float32Array(0);
  let embeds = new Float32Array(0);
  for (let first = 0; first < n; first += BATCH) {
    const rows = input.ids.slice(first, first + BATCH);
    const flat = BigInt64Array.from(rows.flat(), (v) => BigInt(v));
    const out = await session.run(
      { input_ids: session.tensor("int64", flat, [rows.length, input.seq]) },
      ["last_hidden_state", embedName, ...extraFetches],
    );
    const h = out.last_hidden_state.data as Float32Array;
    const e = out[embedName].data as Float32Array;
    if (first === 0) {
      lastHidden = new Float32Array((h.length / rows.length) * n);
      embeds = new Float32Array((e.length / rows.length) * n);
    }
    lastHidden.set(h, (first * h.length) / rows.length);
    embeds.set(e, (first * e.length) / rows.length);
    onBatch?.(out, first);
  }
  return { lastHidden, embeds, embedName };
}

/** Deterministic distinct row indices in [0, total), always including row 0. */
function sampleRowIndices(total: number, count: number): number[] {
  const picked = new Set<number>([0]);
  let s = 2463534242;
  while (picked.size < Math.min(count, total)) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    picked.add((s >>> 0) % total);
  }
  return [...picked].sort((a, b) => a - b);
}

/**
 * Runs the fp32 text graph over the calibration ids with every Linear's input
 * exposed as an extra output, and keeps per-channel maxima (for smoothing) and
 * a row sample (for per-Linear sensitivity), plus the reference outputs.
 */
export async function captureCalibration(
  cfg: TextConfig,
  weights: TextTowerWeights,
  input: CalibrationIds,
  open: SessionOpener,
  sampleRows = 64,
): Promise<CalibrationCapture> {
  const names: { name: string; value: string; inFeatures: number; weightCount: number }[] = [];
  const capturing: LinearEmitter = (g, x, p, name) => {
    const value = g.node("Identity", [x], {}, { name: `${name}_in` });
    g.output(value, DataType.FLOAT, ["batch", "sequence", p.inFeatures]);
    names.push({
      name,
      value,
      inFeatures: p.inFeatures,
      weightCount: p.inFeatures * p.outFeatures,
    });
    return fp32Linear(g, x, p, name);
  };
  const built = buildTextGraph(cfg, weights, {
    quantization: "fp32",
    hiddenStates: 0,
    linear: capturing,
  });
  const session = await open(built.model, "text fp32 calibration");
  const total = input.ids.length * input.seq;
  const picks = sampleRowIndices(total, sampleRows);
  const linears = new Map<string, LinearCapture>();
  for (const n of names) {
    linears.set(n.name, {
      inFeatures: n.inFeatures,
      weightCount: n.weightCount,
      actMax: new Float32Array(n.inFeatures),
      sample: new Float32Array(picks.length * n.inFeatures),
      rows: picks.length,
    });
  }
  const reference = await runTextOutputs(
    session,
    input,
    (out, first) => {
      const rowStart = first * input.seq;
      for (const n of names) {
        const c = linears.get(n.name)!;
        const data = out[n.value].data as Float32Array;
        const k = n.inFeatures;
        const rows = data.length / k;
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < k; j++) {
            const a = Math.abs(data[r * k + j]);
            if (a > c.actMax[j]) c.actMax[j] = a;
          }
        }
        picks.forEach((row, i) => {
          if (row >= rowStart && row < rowStart + rows) {
            c.sample.set(data.subarray((row - rowStart) * k, (row - rowStart + 1) * k), i * k);
          }
        });
      }
    },
    names.map((n) => n.value),
  );
  await session.release();
  return { linears, reference };
}
