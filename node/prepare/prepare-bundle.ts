import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { graphFiles } from "../../conditioning/bundle/graph-files.ts";
import {
  type BundleManifest,
  type GraphMemoryProfile,
  MANIFEST_FORMAT_VERSION,
  type Quantization,
  type TextArchitecture,
} from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { estimateTokenBytes } from "../../conditioning/memory/memory-model.ts";
import { type BudgetStagePlan, fitStagesToBudget } from "./budget-stages.ts";
import { writePreprocessor } from "./bundle-extras.ts";
import { copyTokenizerFiles, findTokenizerDir, loadTokenizerFromDir } from "./bundle-tokenizer.ts";
import { type EmitContext, emitTower, type Tower } from "./emit-tower.ts";
import { type GuardStepOptions, runGuardStep } from "./guard-step.ts";
import { measureTextGraphMemory } from "./memory-profile.ts";
import { type Checkpoint, readCheckpoint } from "./read-checkpoint.ts";
import { buildTextGraph, plannedStageLayers, stageLayers, stagePlanError } from "./text-graph.ts";
import type { TokenEmbeddingMode } from "./token-embedding.ts";
import { loadTextWeights, loadVisionWeights, readLogitScale } from "./tower-weights.ts";
import { buildVisionGraph } from "./vision-graph.ts";

export { reportInputs } from "./calibration-ids.ts";
export type { Tower } from "./emit-tower.ts";

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
   * (default 1: one graph; "per-layer": one group per layer; a list: layers per
   * group in run order, e.g. [6, 3, 2, 1], summing to the layer count).
   */
  stages?: StageSpec;
  /**
   * Choose the stages instead (stage-planner.ts): the fewest whose estimated
   * load peak (WASM heap + the load buffer) fits this many bytes, from a
   * per-layer emission's measured sizes and memory profile. Implies the memory
   * profile; not with `stages`.
   */
  budgetBytes?: number;
  /** Move initializers >= this many bytes to `<graph>.onnx.data`. */
  externalDataThreshold?: number;
  /** Skip the quantisation report (it builds and runs an fp32 reference). */
  skipReport?: boolean;
  /**
   * Accuracy guard for int8 text graphs (precision-guard.ts): choose each
   * Linear's precision (int8, int8 smoothed, fp32) to meet the cosine targets
   * on a calibration set. Off unless given here (the CLI turns it on for int8).
   */
  guard?: GuardStepOptions | false;
  /**
   * Measure the text graph's WASM heap costs in onnxruntime-web (memory-profile.ts) and
   * record them in the manifest (`graphs[].memory`), for the worker's memory budget.
   * Off unless given here (the CLI turns it on; it runs the graph once in a child process).
   */
  memoryProfile?: boolean;
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
  /** The stage plan of `budgetBytes`. */
  stagePlan?: BudgetStagePlan;
}

function createLap(timings: Record<string, number>) {
  let t0 = performance.now();
  return (phase: string) => {
    const now = performance.now();
    timings[phase] = (timings[phase] ?? 0) + (now - t0);
    t0 = now;
  };
}

function selectTowers(ck: Checkpoint, options: PrepareOptions): Tower[] {
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
  return towers;
}

/** How the text graph is split: groups of near-equal size, per layer, or layers per group. */
export type StageSpec = number | "per-layer" | readonly number[];

/** Layers [from, to) of each stage (the head last), or undefined for the one-graph encoder. */
function stageRanges(numLayers: number, spec: StageSpec | undefined) {
  if (Array.isArray(spec)) {
    const plan = spec as readonly number[];
    const error = stagePlanError(numLayers, plan);
    if (error) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --stages ${plan.join(",")}: ${error} (layers per stage of the ${numLayers}-layer text encoder)`,
      );
    }
    if (plan.length === 1) return undefined;
    return Array.from({ length: plan.length + 1 }, (_, i) =>
      plannedStageLayers(numLayers, plan, i),
    );
  }
  const groups = spec === "per-layer" ? numLayers : ((spec as number | undefined) ?? 1);
  if (!Number.isInteger(groups) || groups < 1 || groups > numLayers) {
    throw new ClipEdgeError(
      "usage",
      `prepare: --stages must be an integer in 1..${numLayers} (the text encoder's layers), got ${spec}`,
    );
  }
  if (groups === 1) return undefined;
  return Array.from({ length: groups + 1 }, (_, i) => stageLayers(numLayers, groups, i));
}

/** Emits (or re-emits, replacing the previous one and its files) the text graph split as given. */
export type EmitText = (spec: StageSpec | undefined, skipReport?: boolean) => Promise<void>;

/** The text tower: guard (int8) once, then a function that emits the graph(s) from the planned weights. */
async function prepareText(
  ctx: EmitContext,
  ck: Checkpoint,
  options: PrepareOptions,
): Promise<EmitText> {
  const text = ctx.text!;
  const weights = loadTextWeights(ck.tensors, text, ck.config.projectionDim);
  ctx.tokenTable = weights.tokenEmbedding;
  const guard =
    options.guard && ctx.quant === "int8"
      ? await runGuardStep(
          text,
          weights,
          ctx.tokenizer,
          ctx.padId,
          ctx.out,
          {
            ...options.guard,
            tokenEmbedding: options.tokenEmbedding === "fp32" ? "fp32" : "int8",
          },
          ctx.log,
        )
      : undefined;
  if (guard) ctx.lap("guard_text");
  return async (spec, skipReport = options.skipReport) => {
    const ranges = stageRanges(text.numLayers, spec);
    const previous = ctx.graphs.findIndex((g) => g.kind === "text");
    const old = previous >= 0 ? ctx.graphs.splice(previous, 1)[0] : undefined;
    ctx.skipReport = skipReport;
    await emitTower(
      ctx,
      "text",
      (q, stage) =>
        buildTextGraph(text, q !== "fp32" && guard ? guard.weights : weights, {
          quantization: q,
          hiddenStates: options.hiddenStates,
          attentionMask: options.attentionMask,
          q4AccuracyLevel: options.q4AccuracyLevel,
          tokenEmbedding: q === "fp32" ? "fp32" : options.tokenEmbedding,
          producerVersion: options.version ?? "0",
          ...(q !== "fp32" && guard ? { linear: guard.linear } : {}),
          ...(stage !== undefined && ranges ? { stage: ranges[stage] } : {}),
        }),
      // N layer groups + the head stage; one group is the plain one-graph encoder.
      ranges ? ranges.length : 1,
    );
    ctx.skipReport = options.skipReport;
    if (old) {
      const entry = ctx.graphs.pop()!;
      ctx.graphs.splice(previous, 0, entry);
      const kept = new Set(graphFiles(entry).map((f) => f.file));
      for (const f of graphFiles(old)) {
        if (!kept.has(f.file)) rmSync(join(ctx.out, f.file), { force: true });
      }
    }
    if (guard) {
      const a = guard.report.achieved;
      ctx.report = {
        ...(ctx.report ?? {
          prompts: [],
          tokenCosineMin: a.tokenCosineMin,
          tokenCosineMean: a.tokenCosineMean,
          maxAbsError: 0,
        }),
        guard: guard.report,
      };
    }
  };
}

async function prepareVision(ctx: EmitContext, ck: Checkpoint, options: PrepareOptions) {
  const vcfg = ck.config.vision!;
  const weights = loadVisionWeights(ck.tensors, vcfg, ck.config.projectionDim);
  ctx.imageSize = vcfg.imageSize;
  await emitTower(ctx, "vision", (q) =>
    buildVisionGraph(vcfg, weights, {
      quantization: q,
      producerVersion: options.version ?? "0",
      q4AccuracyLevel: options.q4AccuracyLevel,
    }),
  );
}

function buildManifest(
  ck: Checkpoint,
  options: PrepareOptions,
  towers: Tower[],
  ctx: EmitContext,
  tokenizerFiles: string[],
  preprocessor: BundleManifest["preprocessor"],
): BundleManifest {
  const text = ck.config.text;
  const logitScale = readLogitScale(ck.tensors);
  return {
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
      ...(logitScale !== undefined ? { logitScale } : {}),
    },
    tokenizer: {
      files: tokenizerFiles,
      padId: ctx.padId,
      maxLength: text?.maxPositions ?? 77,
      normalization: "openai",
    },
    ...(preprocessor ? { preprocessor } : {}),
    graphs: ctx.graphs,
    ...(ctx.report ? { quantizationReport: { [ctx.quant]: ctx.report } } : {}),
    createdAt: new Date().toISOString(),
    createdBy: `clip-edge ${options.version ?? "0"}`,
  };
}

/** Rows of the memory probe: enough for ~32 MB of activations (the heap grows in >= 5 % steps). */
function probeRows(arch: TextArchitecture): number {
  const row = estimateTokenBytes(arch) * arch.maxPositions;
  return Math.min(256, Math.max(32, Math.ceil(32e6 / row)));
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** `clip-edge prepare`: Hugging Face checkpoint folder -> bundle folder. */
export async function prepareBundle(options: PrepareOptions): Promise<PrepareResult> {
  const log = options.log ?? (() => {});
  const timings: Record<string, number> = {};
  const lap = createLap(timings);
  const ck = readCheckpoint(options.from);
  const towers = selectTowers(ck, options);
  const budget = options.budgetBytes;
  if (budget !== undefined) {
    if (options.stages !== undefined) {
      throw new ClipEdgeError("usage", "prepare: --stages and --budget-mb exclude each other");
    }
    if (!(budget > 0) || !towers.includes("text") || options.memoryProfile === false) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --budget-mb needs a budget > 0 (got ${budget / 1e6} MB), the text tower and the memory profile`,
      );
    }
  }
  if (towers.includes("text") && ck.config.text)
    stageRanges(ck.config.text.numLayers, options.stages);
  lap("read");
  mkdirSync(options.out, { recursive: true });
  const tokenizerDir = findTokenizerDir(options.from);
  const tokenizer = tokenizerDir ? await loadTokenizerFromDir(tokenizerDir) : undefined;
  const text = ck.config.text;
  const ctx: EmitContext = {
    out: options.out,
    quant: options.quantization,
    externalDataThreshold: options.externalDataThreshold,
    tokenEmbedding: options.tokenEmbedding,
    skipReport: options.skipReport,
    tokenizer,
    padId: tokenizer?.padId ?? text?.padTokenId ?? text?.eosTokenId ?? 49407,
    text,
    graphs: [],
    lap,
    log,
  };
  const emitText = towers.includes("text") ? await prepareText(ctx, ck, options) : undefined;
  // With a budget: per-layer first, to measure; the report comes with the final split.
  if (emitText)
    await emitText(
      budget !== undefined ? "per-layer" : options.stages,
      budget !== undefined || options.skipReport,
    );
  if (towers.includes("vision")) await prepareVision(ctx, ck, options);
  const tokenizerFiles = tokenizerDir ? copyTokenizerFiles(tokenizerDir, options.out) : [];
  if (towers.includes("text") && !tokenizerDir) {
    log(
      `warning: no tokenizer files (vocab.json + merges.txt or tokenizer.json) next to ${options.from}; the bundle has none`,
    );
  }
  const preprocessor = towers.includes("vision")
    ? writePreprocessor(options.from, options.out, ck.config.vision!, log)
    : undefined;
  /** Writes the manifest of what is emitted now; measures the text graph's memory (or takes `memory`). */
  const finish = async (memory?: GraphMemoryProfile): Promise<BundleManifest> => {
    const manifest = buildManifest(ck, options, towers, ctx, tokenizerFiles, preprocessor);
    const write = () =>
      writeFileSync(join(options.out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    write();
    lap("manifest");
    const textEntry = manifest.graphs.find((g) => g.kind === "text");
    const arch = manifest.architecture.text;
    if ((options.memoryProfile || budget !== undefined) && textEntry && arch) {
      textEntry.memory =
        memory ??
        (await measureTextGraphMemory({
          dir: options.out,
          tokens: arch.maxPositions,
          rows: probeRows(arch),
        }));
      write();
      lap("memory_profile");
      const m = textEntry.memory;
      log(
        `memory profile (onnxruntime-web): runtime ${mb(m.runtimeBytes)} MB, graph ${mb(m.loadBytes)} MB, ${(m.tokenBytes / 1024).toFixed(1)} KB per token position (${mb(m.tokenBytes * arch.maxPositions)} MB per ${arch.maxPositions}-token row)`,
      );
    }
    return manifest;
  };
  let manifest = await finish();
  let stagePlan: BudgetStagePlan | undefined;
  if (budget !== undefined && emitText) {
    const fitted = await fitStagesToBudget({
      budgetBytes: budget,
      manifest,
      emit: (spec) => emitText(spec, options.skipReport),
      finish,
      reportPending: !options.skipReport,
      log,
    });
    manifest = fitted.manifest;
    stagePlan = fitted.plan;
  }
  return { manifest, dir: options.out, timings, ...(stagePlan ? { stagePlan } : {}) };
}
