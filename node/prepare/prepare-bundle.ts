import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import {
  type BundleManifest,
  type GraphEntry,
  type GraphStage,
  MANIFEST_FORMAT_VERSION,
  type Quantization,
  type QuantizationReport,
} from "../../conditioning/bundle/manifest.ts";
import { chainNames } from "../../conditioning/encoder/staged-session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { OPENAI_CLIP_PREPROCESSOR, parsePreprocessorConfig } from "../image/config.ts";
import type { ModelDef } from "../onnx/onnx-proto.ts";
import { encodeModel } from "../onnx/onnx-proto.ts";
import { concatEncoded } from "../onnx/protobuf.ts";
import { writeModelFile } from "../onnx/write-model.ts";
import { openGraphEntryWeb } from "../runtime/bundle-session.ts";
import { createOrtWebSession } from "../runtime/ort-web-session.ts";
import { copyTokenizerFiles, findTokenizerDir, loadTokenizerFromDir } from "./bundle-tokenizer.ts";
import {
  REPORT_PROMPTS,
  type ReportInputs,
  textQuantizationReport,
  visionCosineMin,
} from "./quant-report.ts";
import { readCheckpoint, sha256Hex } from "./read-checkpoint.ts";
import { type BuiltGraph, buildTextGraph, stageLayers } from "./text-graph.ts";
import {
  TOKEN_TABLE_FILE,
  type TokenEmbeddingMode,
  tokenTableSafetensors,
} from "./token-embedding.ts";
import { loadTextWeights, loadVisionWeights, readLogitScale } from "./tower-weights.ts";
import { buildVisionGraph } from "./vision-graph.ts";

export type Tower = "text" | "vision";

export interface PrepareOptions {
  from: string;
  out: string;
  quantization: Quantization;
  /** Default: every tower the checkpoint has. */
  towers?: Tower[];
  hiddenStates?: number;
  /** MatMulNBits accuracy_level for q4 (0 = fp32 compute, default; 4 = int8 compute, faster). */
  q4AccuracyLevel?: number;
  /** Add an attention_mask input to the text graph. */
  attentionMask?: boolean;
  tokenEmbedding?: TokenEmbeddingMode;
  /**
   * Split the text graph's layers into this many groups, one graph each, plus a
   * head graph (final LayerNorm, pooling, projection): `text.stage<i>.onnx`,
   * so a runtime holds one stage's bytes at a time while creating sessions
   * (default 1: one graph; "per-layer": one group per layer).
   */
  stages?: number | "per-layer";
  /** Move initializers >= this many bytes to `<graph>.onnx.data`. */
  externalDataThreshold?: number;
  /** Skip the quantisation report (it builds and runs an fp32 reference). */
  skipReport?: boolean;
  name?: string;
  repo?: string;
  revision?: string;
  log?: (line: string) => void;
  version?: string;
}

export interface PrepareResult {
  manifest: BundleManifest;
  dir: string;
  /** Milliseconds per phase. */
  timings: Record<string, number>;
}

const GRAPH_FILE: Record<Tower, string> = { text: "text.onnx", vision: "vision.onnx" };

async function sessionFromModel(model: ModelDef, label: string) {
  return createOrtWebSession(concatEncoded(encodeModel(model)), { label });
}

/** `clip-edge prepare`: Hugging Face checkpoint folder -> bundle folder. */
export async function prepareBundle(options: PrepareOptions): Promise<PrepareResult> {
  const log = options.log ?? (() => {});
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    timings[phase] = (timings[phase] ?? 0) + (now - t0);
    t0 = now;
  };
  const ck = readCheckpoint(options.from);
  const towers = options.towers ?? (["text", "vision"] as Tower[]).filter((t) => ck.config[t]);
  for (const tower of towers) {
    if (!ck.config[tower]) {
      throw new ClipEdgeError(
        "invalid_input",
        `${options.from}: --towers ${tower} requested but config.json has no ${tower} config`,
      );
    }
  }
  if (towers.length === 0) throw new ClipEdgeError("usage", "prepare: no towers selected");
  lap("read");
  mkdirSync(options.out, { recursive: true });
  const quant = options.quantization;
  const graphs: GraphEntry[] = [];
  const reports: Record<string, QuantizationReport> = {};
  const tokenizerDir = findTokenizerDir(options.from);
  const tokenizer = tokenizerDir ? await loadTokenizerFromDir(tokenizerDir) : undefined;
  const text = ck.config.text;
  const padId = tokenizer?.padId ?? text?.padTokenId ?? text?.eosTokenId ?? 49407;
  const version = options.version ?? "0";

  const writeTokenTable = (): GraphEntry["tokenEmbeddingTable"] => {
    const bytes = tokenTableSafetensors(tokenTable!, text!.vocabSize, text!.hiddenSize);
    writeFileSync(join(options.out, TOKEN_TABLE_FILE), bytes);
    return { file: TOKEN_TABLE_FILE, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
  };

  /**
   * Writes a tower's graph: one file, or one per stage (`stage(q, i)` for i < stageCount).
   * The quantisation report compares it, chained, against the unstaged fp32 graph.
   */
  const emit = async (
    tower: Tower,
    build: (q: Quantization, stage?: number) => BuiltGraph,
    stageCount = 1,
  ) => {
    const stages: GraphStage[] = [];
    for (let i = 0; i < stageCount; i++) {
      const built = build(quant, stageCount > 1 ? i : undefined);
      lap(`build_${tower}`);
      const file =
        stageCount > 1
          ? GRAPH_FILE[tower].replace(/\.onnx$/, `.stage${i}.onnx`)
          : GRAPH_FILE[tower];
      const written = writeModelFile(join(options.out, file), built.model, {
        externalDataThreshold: options.externalDataThreshold,
      });
      lap(`write_${tower}`);
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
      log(
        `${written.file}: ${(written.bytes / 1e6).toFixed(1)} MB${written.externalData ? ` + ${written.externalData.file} ${(written.externalData.bytes / 1e6).toFixed(1)} MB` : ""} (${quant})`,
      );
    }
    const tokenMode =
      tower === "text"
        ? quant === "fp32"
          ? "fp32"
          : (options.tokenEmbedding ?? "int8")
        : undefined;
    const tokenEmbeddingTable =
      tokenMode === "external-int8" && text ? writeTokenTable() : undefined;
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
    graphs.push(entry);
    if (quant === "fp32" || options.skipReport) return;
    const reference = await sessionFromModel(build("fp32").model, `${tower} fp32 reference`);
    const quantized = await openGraphEntryWeb(
      entry,
      (f) => new Uint8Array(readFileSync(join(options.out, f.file))),
      options.out,
    );
    if (tower === "text") {
      reports.text = await textQuantizationReport(
        reference,
        quantized,
        reportInputs(tokenizer, padId, text!.maxPositions, text!.vocabSize),
      );
    } else {
      const cos = await visionCosineMin(reference, quantized, ck.config.vision!.imageSize);
      reports.text = reports.text ?? {
        prompts: [],
        tokenCosineMin: 1,
        tokenCosineMean: 1,
        maxAbsError: 0,
      };
      reports.text.imageEmbedsCosineMin = cos;
    }
    await reference.release();
    await quantized.release();
    lap(`report_${tower}`);
  };

  let tokenTable: Float32Array | undefined;
  if (towers.includes("text")) {
    const weights = loadTextWeights(ck.tensors, text!, ck.config.projectionDim);
    tokenTable = weights.tokenEmbedding;
    const groups = options.stages === "per-layer" ? text!.numLayers : (options.stages ?? 1);
    if (!Number.isInteger(groups) || groups < 1 || groups > text!.numLayers) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --stages must be an integer in 1..${text!.numLayers} (the text encoder's layers), got ${options.stages}`,
      );
    }
    await emit(
      "text",
      (q, stage) =>
        buildTextGraph(text!, weights, {
          quantization: q,
          hiddenStates: options.hiddenStates,
          attentionMask: options.attentionMask,
          q4AccuracyLevel: options.q4AccuracyLevel,
          tokenEmbedding: q === "fp32" ? "fp32" : options.tokenEmbedding,
          producerVersion: version,
          ...(stage !== undefined ? { stage: stageLayers(text!.numLayers, groups, stage) } : {}),
        }),
      // N layer groups + the head stage; one group is the plain one-graph encoder.
      groups > 1 ? groups + 1 : 1,
    );
  }
  if (towers.includes("vision")) {
    const vcfg = ck.config.vision!;
    const weights = loadVisionWeights(ck.tensors, vcfg, ck.config.projectionDim);
    await emit("vision", (q) =>
      buildVisionGraph(vcfg, weights, {
        quantization: q,
        producerVersion: version,
        q4AccuracyLevel: options.q4AccuracyLevel,
      }),
    );
  }

  const tokenizerFiles = tokenizerDir ? copyTokenizerFiles(tokenizerDir, options.out) : [];
  if (towers.includes("text") && !tokenizerDir) {
    log(
      `warning: no tokenizer files (vocab.json + merges.txt or tokenizer.json) next to ${options.from}; the bundle has none`,
    );
  }
  let preprocessor: BundleManifest["preprocessor"];
  if (towers.includes("vision")) {
    const src = join(options.from, "preprocessor_config.json");
    const dst = join(options.out, "preprocessor_config.json");
    if (existsSync(src)) {
      writeFileSync(dst, readFileSync(src));
      preprocessor = {
        file: "preprocessor_config.json",
        ...parsePreprocessorConfig(JSON.parse(readFileSync(src, "utf8")), src),
      };
    } else {
      const size = ck.config.vision!.imageSize;
      const cfg = {
        ...OPENAI_CLIP_PREPROCESSOR,
        shortestEdge: size,
        cropSize: { height: size, width: size },
      };
      writeFileSync(
        dst,
        `${JSON.stringify({ size: { shortest_edge: size }, crop_size: { height: size, width: size }, do_center_crop: true, do_convert_rgb: true, do_normalize: true, do_rescale: true, rescale_factor: cfg.rescaleFactor, image_mean: cfg.mean, image_std: cfg.std, resample: cfg.resample }, null, 2)}\n`,
      );
      preprocessor = { file: "preprocessor_config.json", ...cfg };
      log("warning: no preprocessor_config.json in the checkpoint; wrote OpenAI CLIP defaults");
    }
  }

  const manifest: BundleManifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    name: options.name ?? basename(resolve(options.from)),
    source: {
      ...(options.repo ? { repo: options.repo } : {}),
      ...(options.revision ? { revision: options.revision } : {}),
      path: resolve(options.from),
      files: ck.files,
    },
    architecture: {
      ...(towers.includes("text") && text
        ? {
            text: {
              hiddenSize: text.hiddenSize,
              intermediateSize: text.intermediateSize,
              numLayers: text.numLayers,
              numHeads: text.numHeads,
              hiddenAct: text.hiddenAct,
              layerNormEps: text.layerNormEps,
              vocabSize: text.vocabSize,
              maxPositions: text.maxPositions,
              exportedHiddenStates: options.hiddenStates ?? 3,
            },
          }
        : {}),
      ...(towers.includes("vision") && ck.config.vision ? { vision: { ...ck.config.vision } } : {}),
      ...(ck.config.projectionDim !== undefined ? { projectionDim: ck.config.projectionDim } : {}),
      ...(readLogitScale(ck.tensors) !== undefined
        ? { logitScale: readLogitScale(ck.tensors) }
        : {}),
    },
    tokenizer: {
      files: tokenizerFiles,
      padId,
      maxLength: text?.maxPositions ?? 77,
      normalization: "openai",
    },
    ...(preprocessor ? { preprocessor } : {}),
    graphs,
    ...(Object.keys(reports).length > 0 ? { quantizationReport: { [quant]: reports.text } } : {}),
    createdAt: new Date().toISOString(),
    createdBy: `clip-edge ${version}`,
  };
  writeFileSync(join(options.out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  lap("manifest");
  return { manifest, dir: options.out, timings };
}

/** Report ids: the fixed prompts through the checkpoint's tokenizer, or deterministic ids without one. */
export function reportInputs(
  tokenizer:
    | { encodeForModel(text: string, o: { maxLength: number; pad: number }): { ids: number[] } }
    | undefined,
  padId: number,
  seq: number,
  vocabSize = 49408,
): ReportInputs {
  if (tokenizer) {
    return {
      prompts: [...REPORT_PROMPTS],
      ids: REPORT_PROMPTS.map(
        (p) => tokenizer.encodeForModel(p, { maxLength: seq, pad: padId }).ids,
      ),
      seq,
    };
  }
  // No tokenizer: fixed pseudo-random token ids of varied lengths (labelled as such).
  const ids: number[][] = [];
  const prompts: string[] = [];
  let state = 7;
  for (const len of [3, 8, 20, 40, 75]) {
    // SOT/EOT are the two largest ids of the CLIP vocabulary (49406, 49407 for the real one).
    const row = [vocabSize - 2];
    for (let i = 0; i < len; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      row.push(state % (vocabSize - 2));
    }
    row.push(vocabSize - 1);
    while (row.length < seq) row.push(Math.min(padId, vocabSize - 1));
    ids.push(row.slice(0, seq));
    prompts.push(`<synthetic ids, ${len} tokens>`);
  }
  return { prompts, ids, seq };
}
