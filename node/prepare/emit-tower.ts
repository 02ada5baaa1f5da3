import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  GraphEntry,
  GraphStage,
  Quantization,
  QuantizationReport,
} from "../../conditioning/bundle/manifest.ts";
import { chainNames } from "../../conditioning/encoder/staged-session.ts";
import { encodeModel } from "../onnx/onnx-proto.ts";
import { concatEncoded } from "../onnx/protobuf.ts";
import { writeModelFile } from "../onnx/write-model.ts";
import { openGraphEntryWeb } from "../runtime/bundle-session.ts";
import { createOrtWebSession } from "../runtime/ort-web-session.ts";
import type { PromptTokenizer } from "./calibration-ids.ts";
import { reportInputs } from "./calibration-ids.ts";
import type { TextConfig } from "./clip-config.ts";
import { textQuantizationReport, visionCosineMin } from "./quant-report.ts";
import { sha256Hex } from "./read-checkpoint.ts";
import type { BuiltGraph } from "./text-graph.ts";
import {
  TOKEN_TABLE_FILE,
  type TokenEmbeddingMode,
  tokenTableSafetensors,
} from "./token-embedding.ts";

export type Tower = "text" | "vision";

const GRAPH_FILE: Record<Tower, string> = { text: "text.onnx", vision: "vision.onnx" };

/** What emitting a tower needs from prepare's run. */
export interface EmitContext {
  out: string;
  quant: Quantization;
  externalDataThreshold?: number;
  tokenEmbedding?: TokenEmbeddingMode;
  skipReport?: boolean;
  tokenizer?: PromptTokenizer;
  padId: number;
  text?: TextConfig;
  /** The text token table (for external-int8). */
  tokenTable?: Float32Array;
  imageSize?: number;
  graphs: GraphEntry[];
  /** The bundle's quantisation report, filled in by the towers. */
  report?: QuantizationReport;
  lap: (phase: string) => void;
  log: (line: string) => void;
}

function writeTokenTable(ctx: EmitContext): GraphEntry["tokenEmbeddingTable"] {
  const text = ctx.text!;
  const bytes = tokenTableSafetensors(ctx.tokenTable!, text.vocabSize, text.hiddenSize);
  writeFileSync(join(ctx.out, TOKEN_TABLE_FILE), bytes);
  return { file: TOKEN_TABLE_FILE, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
}

function writeStages(
  ctx: EmitContext,
  tower: Tower,
  build: (q: Quantization, stage?: number) => BuiltGraph,
  stageCount: number,
): GraphStage[] {
  const stages: GraphStage[] = [];
  for (let i = 0; i < stageCount; i++) {
    const built = build(ctx.quant, stageCount > 1 ? i : undefined);
    ctx.lap(`build_${tower}`);
    const file =
      stageCount > 1 ? GRAPH_FILE[tower].replace(/\.onnx$/, `.stage${i}.onnx`) : GRAPH_FILE[tower];
    const written = writeModelFile(join(ctx.out, file), built.model, {
      externalDataThreshold: ctx.externalDataThreshold,
    });
    ctx.lap(`write_${tower}`);
    const layers = (built.model.metadata?.["clip_edge.stage_layers"] ?? "0-0").split("-");
    stages.push({
      file: written.file,
      bytes: written.bytes,
      sha256: written.sha256,
      layers: [Number(layers[0]), Number(layers[1])],
      inputs: built.inputs,
      outputs: built.outputs,
      ...(written.externalData ? { externalData: [written.externalData] } : {}),
    });
    ctx.log(
      `${written.file}: ${(written.bytes / 1e6).toFixed(1)} MB${written.externalData ? ` + ${written.externalData.file} ${(written.externalData.bytes / 1e6).toFixed(1)} MB` : ""} (${ctx.quant})`,
    );
  }
  return stages;
}

/**
 * Writes a tower's graph: one file, or one per stage (`build(q, i)` for i < stageCount),
 * adds its manifest entry, and (quantised) compares it, chained, against the unstaged fp32 graph.
 */
export async function emitTower(
  ctx: EmitContext,
  tower: Tower,
  build: (q: Quantization, stage?: number) => BuiltGraph,
  stageCount = 1,
): Promise<void> {
  const { quant } = ctx;
  const stages = writeStages(ctx, tower, build, stageCount);
  const tokenMode =
    tower === "text" ? (quant === "fp32" ? "fp32" : (ctx.tokenEmbedding ?? "int8")) : undefined;
  const tokenEmbeddingTable =
    tokenMode === "external-int8" && ctx.text ? writeTokenTable(ctx) : undefined;
  const [first] = stages;
  // The chain's names (one stage: its own).
  const chain = chainNames(
    stages.map((st) => ({ inputNames: st.inputs, outputNames: st.outputs })),
  );
  const entry: GraphEntry = {
    kind: tower,
    file: first.file,
    bytes: first.bytes,
    sha256: first.sha256,
    quantization: quant,
    inputs: chain.inputNames,
    outputs: chain.outputNames,
    opset: 17,
    ...(tokenMode ? { tokenEmbedding: tokenMode } : {}),
    ...(tokenEmbeddingTable ? { tokenEmbeddingTable } : {}),
    ...(first.externalData ? { externalData: first.externalData } : {}),
    ...(stageCount > 1 ? { stages } : {}),
  };
  ctx.graphs.push(entry);
  if (quant === "fp32" || ctx.skipReport) return;
  const reference = await createOrtWebSession(concatEncoded(encodeModel(build("fp32").model)), {
    label: `${tower} fp32 reference`,
  });
  const quantized = await openGraphEntryWeb(
    entry,
    (f) => new Uint8Array(readFileSync(join(ctx.out, f.file))),
    ctx.out,
  );
  if (tower === "text") {
    const text = ctx.text!;
    ctx.report = {
      ...(await textQuantizationReport(
        reference,
        quantized,
        reportInputs(ctx.tokenizer, ctx.padId, text.maxPositions, text.vocabSize),
      )),
      ...(ctx.report?.imageEmbedsCosineMin !== undefined
        ? { imageEmbedsCosineMin: ctx.report.imageEmbedsCosineMin }
        : {}),
      ...(ctx.report?.guard ? { guard: ctx.report.guard } : {}),
    };
  } else {
    const cos = await visionCosineMin(reference, quantized, ctx.imageSize!);
    ctx.report = ctx.report ?? {
      prompts: [],
      tokenCosineMin: 1,
      tokenCosineMean: 1,
      maxAbsError: 0,
    };
    ctx.report.imageEmbedsCosineMin = cos;
  }
  await reference.release();
  await quantized.release();
  ctx.lap(`report_${tower}`);
}
