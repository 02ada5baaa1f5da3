/**
 * The int8 comparison table of docs/prepare.md and bench/RESULTS.md: on the
 * outlier-realistic synthetic checkpoint (node/synthetic/outlier-checkpoint.ts),
 * each int8 lowering against the fp32 graph on held-out prompts
 * (PartiPrompts, read at run time from the shared tokenizer fixtures; not the
 * guard's calibration set).
 *
 *   npx tsx bench/quant-accuracy.ts [--dims l14|tiny | --from CHECKPOINT_DIR] [--heldout 48]
 *     [--out FILE.md]
 *
 * --from measures a checkpoint folder instead (e.g. the tiny fixtures: before/after for them).
 *
 * Rows: per-tensor int8 (the pre-#11 lowering), per-token int8, per-token +
 * smoothing of every q/k/v and fc1, and the accuracy guard's plan.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { encodeModel } from "../node/onnx/onnx-proto.ts";
import { concatEncoded } from "../node/onnx/protobuf.ts";
import { loadTokenizerFromDir } from "../node/prepare/bundle-tokenizer.ts";
import { captureCalibration, runTextOutputs } from "../node/prepare/calibration-capture.ts";
import { calibrationSet } from "../node/prepare/calibration-ids.ts";
import {
  int8Linear,
  int8PerTensorLinear,
  type LinearEmitter,
} from "../node/prepare/linear-emitters.ts";
import { evaluatePlan, linearParams, planTextPrecision } from "../node/prepare/precision-guard.ts";
import { readCheckpoint } from "../node/prepare/read-checkpoint.ts";
import { openMeasurementSession } from "../node/prepare/reference-session.ts";
import { applySmoothing, isSmoothable, smoothingFactors } from "../node/prepare/smooth-quant.ts";
import { buildTextGraph } from "../node/prepare/text-graph.ts";
import { loadTextWeights, type TextTowerWeights } from "../node/prepare/tower-weights.ts";
import { TINY_OUTLIER_TEXT, writeOutlierCheckpoint } from "../node/synthetic/outlier-checkpoint.ts";
import { CLIP_L14_TEXT } from "../node/synthetic/synthetic-checkpoint.ts";

const { values } = parseArgs({
  options: {
    dims: { type: "string", default: "l14" },
    heldout: { type: "string", default: "48" },
    out: { type: "string" },
    from: { type: "string" },
  },
});
const fixtures = resolve(process.env.CLIP_EDGE_FIXTURES ?? "../shared/fixtures");
const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();
const dims = values.dims === "tiny" ? TINY_OUTLIER_TEXT : CLIP_L14_TEXT;
const dir = values.from ?? mkdtempSync(join(tmpdir(), "clip-edge-outlier-"));
if (!values.from) {
  writeOutlierCheckpoint(dir, { text: dims, projectionDim: values.dims === "tiny" ? 48 : 768 });
}
const ck = readCheckpoint(dir);
const cfg = ck.config.text!;
const weights = loadTextWeights(ck.tensors, cfg, ck.config.projectionDim);
if (!values.from) rmSync(dir, { recursive: true, force: true });
const tokenizer = await loadTokenizerFromDir(join(fixtures, "vocab"));
const seq = cfg.maxPositions;

// Held-out: PartiPrompts from the tokenizer fixtures, evenly spaced through the file.
const parti = readFileSync(join(fixtures, "tokenizer", "cases.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { text: string; source?: string })
  .filter((c) => c.source === "parti")
  .map((c) => c.text);
const n = Math.min(Number(values.heldout), parti.length);
const heldoutPrompts = Array.from(
  { length: n },
  (_, i) => parti[Math.floor((i * parti.length) / n)],
);
const heldout = {
  ids: heldoutPrompts.map((p) => tokenizer.encodeForModel(p, { maxLength: seq, pad: 49407 }).ids),
  seq,
};
const what = values.from ?? `${values.dims} outlier checkpoint`;
log(`${what} ready; ${n} held-out parti prompts`);
const refSession = await openMeasurementSession(
  buildTextGraph(cfg, weights, { quantization: "fp32", hiddenStates: 0 }).model,
  "fp32 reference",
);
const reference = await runTextOutputs(refSession, heldout);
await refSession.release();

const calibration = calibrationSet(tokenizer, 49407, seq, cfg.vocabSize);
interface Row {
  label: string;
  weights: TextTowerWeights;
  linear: LinearEmitter;
  fp32Linears: number;
}
const rows: Row[] = [
  { label: "per-tensor int8 (before #11)", weights, linear: int8PerTensorLinear, fp32Linears: 0 },
  { label: "per-token int8", weights, linear: int8Linear, fp32Linears: 0 },
];
const guardStart = performance.now();
const capture = await captureCalibration(cfg, weights, calibration, openMeasurementSession);
log(
  `captured calibration activations in ${((performance.now() - guardStart) / 1000).toFixed(0)} s`,
);
const guarded = await planTextPrecision(cfg, weights, calibration, { log, capture });
const guardSeconds = (performance.now() - guardStart) / 1000;
const factors = new Map<string, Float32Array>();
for (const [name, c] of capture.linears) {
  if (isSmoothable(name))
    factors.set(name, smoothingFactors(c.actMax, [linearParams(cfg, weights, name)]));
}
rows.push({
  label: "per-token int8 + smoothing (all q/k/v, fc1)",
  weights: applySmoothing(weights, factors),
  linear: int8Linear,
  fp32Linears: 0,
});
rows.push({
  label: "guarded plan (defaults)",
  weights: guarded.weights,
  linear: guarded.linear,
  fp32Linears: guarded.report.fp32Linears,
});

const table = [
  `| int8 variant | worst-token cosine | mean token cosine | worst ${reference.embedName} cosine | text.onnx MB | Linears in fp32 |`,
  "|---|---|---|---|---|---|",
];
for (const row of rows) {
  const acc = await evaluatePlan(cfg, row.weights, row.linear, heldout, reference);
  const bytes = concatEncoded(
    encodeModel(
      buildTextGraph(cfg, row.weights, { quantization: "int8", linear: row.linear }).model,
    ),
  ).byteLength;
  const line = `| ${row.label} | ${acc.tokenCosineMin.toFixed(5)} | ${acc.tokenCosineMean.toFixed(5)} | ${acc.embedsCosineMin.toFixed(5)} | ${(bytes / 1e6).toFixed(1)} | ${row.fp32Linears} of ${Object.keys(guarded.report.plan).length} |`;
  log(line);
  table.push(line);
}
const fp32 = Object.entries(guarded.report.plan)
  .filter(([, p]) => p === "fp32")
  .map(([name]) => name);
const residual = Object.entries(guarded.report.plan)
  .filter(([, p]) => p === "int8-residual")
  .map(([name]) => name);
const count = (kind: string) => Object.values(guarded.report.plan).filter((p) => p === kind).length;
const smoothed = count("int8-smooth");
const split = Object.entries(guarded.report.splitChannels ?? {})
  .map(([name, c]) => `${name} (${c.length})`)
  .join(", ");
const notes = [
  "",
  `Checkpoint: ${values.from ? values.from : `outlier proxy at ${values.dims === "tiny" ? "tiny" : "CLIP ViT-L/14 text"} dims`} (width ${cfg.hiddenSize}, ${cfg.numLayers} layers); held-out: ${n} PartiPrompts at ${seq} positions (every position, padding included, counts for the worst token).`,
  `Guard: ${calibration.ids.length} built-in calibration prompts, ${guarded.report.evaluations} end-to-end runs, ${guardSeconds.toFixed(0)} s on this machine; on calibration it reached worst token ${guarded.report.achieved.tokenCosineMin.toFixed(5)}, ${guarded.report.achieved.embeds} ${guarded.report.achieved.embedsCosineMin.toFixed(5)}; ${smoothed} Linears smoothed, split (outlier channels in fp32): ${split || "none"}; int8-residual: ${residual.join(", ") || "none"}; fp32: ${fp32.join(", ") || "none"}.`,
  `Total ${((performance.now() - started) / 1000).toFixed(0)} s.`,
];
const text = `${table.join("\n")}\n${notes.join("\n")}\n`;
process.stdout.write(text);
if (values.out) writeFileSync(values.out, text);
