import type { QuantizationReport } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { loadTokenizer } from "../../conditioning/tokenizer/index.ts";
import { encodeModel } from "../onnx/onnx-proto.ts";
import { concatEncoded } from "../onnx/protobuf.ts";
import { openBundleGraphWeb } from "../runtime/bundle-session.ts";
import { loadBundle } from "../runtime/load-bundle.ts";
import { createOrtWebSession } from "../runtime/ort-web-session.ts";
import { runTextOutputs } from "./calibration-capture.ts";
import { calibrationSet, reportInputs } from "./calibration-ids.ts";
import { readCalibrationFile } from "./calibration-prompts.ts";
import { CALIBRATION_FILE } from "./guard-step.ts";
import { compareRows, textQuantizationReport, visionCosineMin } from "./quant-report.ts";
import { readCheckpoint } from "./read-checkpoint.ts";
import { buildTextGraph } from "./text-graph.ts";
import { loadTextWeights, loadVisionWeights } from "./tower-weights.ts";
import { buildVisionGraph } from "./vision-graph.ts";

export interface GuardCheck {
  tokenCosineMin: number;
  tokenCosineMean: number;
  embedsCosineMin: number;
  /** Recomputed numbers meet the recorded targets. */
  met: boolean;
  /** The calibration ids rebuilt here hash to the recorded sha256. */
  calibrationMatches: boolean;
}

export interface VerifyResult {
  quantization: string;
  report: QuantizationReport;
  /** The accuracy guard's numbers, recomputed over its calibration set (bundles prepared with it). */
  guard?: GuardCheck;
  /** Checkpoint files whose hash differs from the bundle's recorded source. */
  sourceMismatches: string[];
}

/**
 * `clip-edge verify`: rebuilds the fp32 reference from the checkpoint and
 * recomputes the bundle's quantisation report (works for fp32 bundles too:
 * then it measures graph-vs-rebuild agreement).
 */
export async function verifyBundle(
  bundleDir: string,
  checkpointDir: string,
): Promise<VerifyResult> {
  const bundle = loadBundle(bundleDir);
  const ck = readCheckpoint(checkpointDir);
  const sourceMismatches = Object.entries(bundle.manifest.source.files)
    .filter(([name, f]) => ck.files[name] && ck.files[name].sha256 !== f.sha256)
    .map(([name]) => name);
  const textEntry = bundle.graph("text");
  const visionEntry = bundle.graph("vision");
  const quantization = (textEntry ?? visionEntry)?.quantization ?? "fp32";
  let report: QuantizationReport = {
    prompts: [],
    tokenCosineMin: 1,
    tokenCosineMean: 1,
    maxAbsError: 0,
  };
  let guard: GuardCheck | undefined;
  if (textEntry) {
    const cfg = ck.config.text;
    if (!cfg)
      throw new ClipEdgeError(
        "invalid_input",
        `${checkpointDir}: checkpoint has no text config but the bundle has a text graph`,
      );
    const weights = loadTextWeights(ck.tensors, cfg, ck.config.projectionDim);
    const hiddenStates = bundle.manifest.architecture.text?.exportedHiddenStates ?? 3;
    const ref = await createOrtWebSession(
      concatEncoded(
        encodeModel(buildTextGraph(cfg, weights, { quantization: "fp32", hiddenStates }).model),
      ),
      { label: "text fp32 reference" },
    );
    const got = await openBundleGraphWeb(bundle, "text");
    const tokenizer = bundle.manifest.tokenizer.files.length
      ? await loadTokenizer(
          async (n) => (bundle.manifest.tokenizer.files.includes(n) ? bundle.readFile(n) : null),
          { where: bundleDir },
        )
      : undefined;
    report = await textQuantizationReport(
      ref,
      got,
      reportInputs(tokenizer, bundle.manifest.tokenizer.padId, cfg.maxPositions, cfg.vocabSize),
    );
    const recorded = bundle.manifest.quantizationReport?.[quantization]?.guard;
    if (recorded) {
      const extra = recorded.calibration.file
        ? readCalibrationFile(`${bundleDir}/${CALIBRATION_FILE}`)
        : [];
      const set = calibrationSet(
        tokenizer,
        bundle.manifest.tokenizer.padId,
        cfg.maxPositions,
        cfg.vocabSize,
        extra,
      );
      const refOut = await runTextOutputs(ref, set);
      const gotOut = await runTextOutputs(got, set);
      const tokens = compareRows(refOut.lastHidden, gotOut.lastHidden, cfg.hiddenSize);
      const embeds = compareRows(
        refOut.embeds,
        gotOut.embeds,
        refOut.embeds.length / set.ids.length,
      );
      guard = {
        tokenCosineMin: tokens.cosineMin,
        tokenCosineMean: tokens.cosineMean,
        embedsCosineMin: embeds.cosineMin,
        met:
          tokens.cosineMin >= recorded.targets.tokenCosineMin &&
          embeds.cosineMin >= recorded.targets.embedsCosineMin,
        calibrationMatches: set.sha256 === recorded.calibration.sha256,
      };
      report.guard = recorded;
    }
    await ref.release();
    await got.release();
  }
  if (visionEntry) {
    const cfg = ck.config.vision;
    if (!cfg)
      throw new ClipEdgeError(
        "invalid_input",
        `${checkpointDir}: checkpoint has no vision config but the bundle has a vision graph`,
      );
    const weights = loadVisionWeights(ck.tensors, cfg, ck.config.projectionDim);
    const ref = await createOrtWebSession(
      concatEncoded(encodeModel(buildVisionGraph(cfg, weights, { quantization: "fp32" }).model)),
      { label: "vision fp32 reference" },
    );
    const got = await openBundleGraphWeb(bundle, "vision");
    report.imageEmbedsCosineMin = await visionCosineMin(ref, got, cfg.imageSize);
    await ref.release();
    await got.release();
  }
  return { quantization, report, ...(guard ? { guard } : {}), sourceMismatches };
}
