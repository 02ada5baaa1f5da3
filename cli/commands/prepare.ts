import { existsSync } from "node:fs";
import { graphFiles } from "../../conditioning/bundle/graph-files.ts";
import type { GraphEntry, Quantization } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { BudgetStagePlan } from "../../node/prepare/budget-stages.ts";
import { formatGuard } from "../../node/prepare/guard-report.ts";
import {
  DEFAULT_GUARD_MARGIN,
  DEFAULT_MIN_EMBED_COSINE,
  DEFAULT_MIN_TOKEN_COSINE,
  EDGE_MAX_FP32_BYTES,
  type SmoothingMode,
} from "../../node/prepare/precision-guard.ts";
import { prepareBundle, type Tower } from "../../node/prepare/prepare-bundle.ts";
import { formatReport } from "../../node/prepare/quant-report.ts";
import type { TokenEmbeddingMode } from "../../node/prepare/token-embedding.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";

/** One graph of the summary line: every file it loads (stages, external data, token table). */
function graphSummary(g: GraphEntry): string {
  const files = graphFiles(g);
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  return files.length === 1
    ? `${g.file} ${bytes} bytes`
    : `${g.kind}: ${files.length} files, ${bytes} bytes`;
}

/** `--stages N` or `--stages 6,3,2,1` (layers per stage, run order). */
function stagesOption(value: string | undefined): number | number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",").map((p) => p.trim());
  const ns = parts.map(Number);
  if (parts.some((p) => p === "") || !ns.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new ClipEdgeError(
      "usage",
      `prepare: --stages must be a positive integer or a comma-separated list of layers per stage (e.g. 6,3,2,1), got ${value}`,
    );
  }
  return parts.length === 1 && !value.includes(",") ? ns[0] : ns;
}

/** `--budget-mb N` (MB = 10^6 bytes, as MEMORY_BUDGET_MB): only with --edge, not with --stages. */
function budgetOption(
  value: string | undefined,
  edge: boolean,
  values: { stages?: string; "no-memory-profile"?: boolean },
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new ClipEdgeError("usage", `prepare: --budget-mb must be a number > 0, got ${value}`);
  }
  if (!edge) throw new ClipEdgeError("usage", "prepare: --budget-mb needs --edge");
  if (values.stages !== undefined) {
    throw new ClipEdgeError(
      "usage",
      "prepare: --budget-mb and --stages exclude each other (--budget-mb chooses the stages)",
    );
  }
  if (values["no-memory-profile"]) {
    throw new ClipEdgeError(
      "usage",
      "prepare: --budget-mb needs the memory profile (drop --no-memory-profile)",
    );
  }
  return n * 1e6;
}

function formatStagePlan(p: BudgetStagePlan): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const split =
    p.layers.length === 1
      ? "one graph"
      : `${p.layers.length} layer stages [${p.layers.join(",")}] + head`;
  return `stage plan (--budget-mb ${mb(p.budgetBytes)}): ${split}, estimated load peak ${mb(p.measuredPeakBytes)} MB${p.note ? ` (${p.note})` : ""}`;
}

/** fp32 weight MB a guarded `--edge` plan may add (node/prepare/precision-guard.ts). */
const EDGE_FP32_BUDGET_MB = EDGE_MAX_FP32_BYTES / 1e6;

const USAGE = `Usage: clip-edge prepare --from HF_DIR --out BUNDLE_DIR [options]

Builds ONNX graphs (text.onnx, vision.onnx) + manifest.json from a Hugging Face CLIP checkpoint
(config.json + model.safetensors or a sharded model.safetensors.index.json).

Options:
  --from DIR              checkpoint folder (CLIPModel, CLIPTextModel[WithProjection], OpenAI/OpenCLIP names)
  --out DIR               bundle folder to write
  --quant fp32|int8|q4    weights: fp32 (default), int8 (dynamic MatMulInteger), q4 (MatMulNBits block 32)
  --towers text,vision    towers to export (default: all in the checkpoint)
  --hidden-states K       pre-final-LN hidden states to export (default 3)
  --attention-mask        add an attention_mask input to the text graph (default: causal mask only)
  --token-embedding fp32|int8|external-int8   token table for quantised variants (default int8;
                          external-int8: table in token_embedding.safetensors, graph input token_embeds)
  --q4-accuracy-level N   MatMulNBits accuracy_level for q4: 0 fp32 compute (default), 4 int8 compute
  --external-data BYTES   move initializers >= BYTES to <graph>.onnx.data
  --stages N|A,B,..       split the text graph into N layer groups (or groups of A, B, .. layers) + a head (final LN, pooling,
                          projection), one graph each (text.stage<i>.onnx), that a runtime loads one
                          at a time: only one stage's bytes are held in JS at once
  --budget-mb N           with --edge: the fewest, largest text stages whose estimated load peak
                          (WASM heap + the worker's load buffer, from a measured per-layer profile)
                          fits N MB (10^6 bytes, as MEMORY_BUDGET_MB); not with --stages
  --edge                  shape the bundle for a 128 MB Worker isolate: --external-data 1024,
                          --token-embedding external-int8 (quantised only), --stages = text layers;
                          explicit flags win (docs/performance.md)
  --no-report             skip the quantisation report
  --no-memory-profile     skip measuring the text graph's WASM heap costs (runtime, graph, per
                          token) in onnxruntime-web; the worker's MEMORY_BUDGET_MB then estimates
                          them from the architecture (docs/worker.md "Memory model")
  --no-guard              int8: skip the accuracy guard (plain per-token int8 for every Linear)
  --min-token-cosine X    guard target: worst per-token cosine of last_hidden_state vs fp32 over the
                          calibration set (default ${DEFAULT_MIN_TOKEN_COSINE})
  --min-embed-cosine X    guard target: worst text_embeds (pooled without a projection) cosine
                          (default ${DEFAULT_MIN_EMBED_COSINE})
  --calibration FILE      extra guard calibration prompts: JSON Lines {"text": ...} or one prompt per
                          line (added to the ${"64"} built-in prompts; copied into the bundle)
  --guard-margin X        share of each target's error budget the guard keeps in reserve for prompts
                          outside the calibration set, in [0, 1) (default ${DEFAULT_GUARD_MARGIN}: aims at
                          1 - 0.8 * (1 - target))
  --guard-max-fp32-mb N   guard: at most N MB of weight bytes added by Linears kept in fp32 (default
                          with --edge ${EDGE_FP32_BUDGET_MB}: what a 128 MB isolate spares beside CLIP-L int8; else no cap)
  --smoothing auto|all|off  guard: SmoothQuant smoothing of q/k/v and fc1 (auto: where it lowers the
                          estimated int8 error; default auto)
  --name NAME             bundle name (default: folder name)
  --repo ID --revision REV  recorded as the bundle's source
`;

export const command: Command = {
  name: "prepare",
  summary: "Hugging Face CLIP checkpoint -> ONNX bundle (fp32, int8, q4)",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("prepare", argv, {
      from: { type: "string" },
      out: { type: "string" },
      quant: { type: "string", default: "fp32" },
      towers: { type: "string" },
      "hidden-states": { type: "string" },
      "token-embedding": { type: "string" },
      "external-data": { type: "string" },
      "q4-accuracy-level": { type: "string" },
      "no-report": { type: "boolean", default: false },
      "no-memory-profile": { type: "boolean", default: false },
      "no-guard": { type: "boolean", default: false },
      "min-token-cosine": { type: "string" },
      "min-embed-cosine": { type: "string" },
      calibration: { type: "string" },
      smoothing: { type: "string" },
      "guard-margin": { type: "string" },
      "guard-max-fp32-mb": { type: "string" },
      "attention-mask": { type: "boolean", default: false },
      stages: { type: "string" },
      "budget-mb": { type: "string" },
      edge: { type: "boolean", default: false },
      name: { type: "string" },
      repo: { type: "string" },
      revision: { type: "string" },
    });
    const from = requireOption("prepare", "from", values.from);
    const out = requireOption("prepare", "out", values.out);
    const quant = values.quant as Quantization;
    if (!["fp32", "int8", "q4"].includes(quant)) {
      throw new ClipEdgeError("usage", `prepare: --quant must be fp32, int8 or q4, got ${quant}`);
    }
    let towers: Tower[] | undefined;
    if (values.towers) {
      towers = values.towers.split(",").map((t) => t.trim()) as Tower[];
      for (const t of towers) {
        if (t !== "text" && t !== "vision")
          throw new ClipEdgeError("usage", `prepare: --towers accepts text,vision, got ${t}`);
      }
    }
    const intOption = (name: string, value: string | undefined): number | undefined => {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new ClipEdgeError(
          "usage",
          `prepare: --${name} must be a non-negative integer, got ${value}`,
        );
      return n;
    };
    const edge = values.edge;
    const tokenEmbedding = (values["token-embedding"] ??
      (edge && quant !== "fp32" ? "external-int8" : undefined)) as TokenEmbeddingMode | undefined;
    if (tokenEmbedding && !["fp32", "int8", "external-int8"].includes(tokenEmbedding)) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --token-embedding must be fp32, int8 or external-int8, got ${tokenEmbedding}`,
      );
    }
    const cosine = (name: string, value: string | undefined, fallback: number): number => {
      if (value === undefined) return fallback;
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n) || n <= -1 || n > 1)
        throw new ClipEdgeError(
          "usage",
          `prepare: --${name} must be a cosine in (-1, 1], got ${value}`,
        );
      return n;
    };
    const minTokenCosine = cosine(
      "min-token-cosine",
      values["min-token-cosine"],
      DEFAULT_MIN_TOKEN_COSINE,
    );
    const minEmbedCosine = cosine(
      "min-embed-cosine",
      values["min-embed-cosine"],
      DEFAULT_MIN_EMBED_COSINE,
    );
    const marginText = values["guard-margin"];
    const margin = marginText === undefined ? DEFAULT_GUARD_MARGIN : Number(marginText);
    if (marginText?.trim() === "" || !Number.isFinite(margin) || margin < 0 || margin >= 1) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --guard-margin must be a number in [0, 1), got ${marginText}`,
      );
    }
    const budgetText = values["guard-max-fp32-mb"];
    const budgetMb = budgetText === undefined ? undefined : Number(budgetText);
    if (budgetText !== undefined && (budgetText.trim() === "" || !(budgetMb! >= 0))) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --guard-max-fp32-mb must be a number >= 0, got ${budgetText}`,
      );
    }
    const maxFp32Mb = budgetMb ?? (values.edge ? EDGE_FP32_BUDGET_MB : undefined);
    const maxFp32Bytes = maxFp32Mb === undefined ? undefined : maxFp32Mb * 1e6;
    const smoothing = (values.smoothing ?? "auto") as SmoothingMode;
    if (!["auto", "all", "off"].includes(smoothing)) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --smoothing must be auto, all or off, got ${values.smoothing}`,
      );
    }
    if (values.calibration !== undefined && !existsSync(values.calibration)) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --calibration ${values.calibration}: no such file`,
      );
    }
    const guard =
      quant === "int8" && !values["no-guard"]
        ? {
            minTokenCosine,
            minEmbedCosine,
            margin,
            smoothing,
            calibrationFile: values.calibration,
            maxFp32Bytes,
          }
        : false;
    const stages = stagesOption(values.stages);
    const budgetBytes = budgetOption(values["budget-mb"], edge, values);
    const started = performance.now();
    const result = await prepareBundle({
      from,
      out,
      quantization: quant,
      towers,
      hiddenStates: intOption("hidden-states", values["hidden-states"]),
      tokenEmbedding,
      attentionMask: values["attention-mask"],
      q4AccuracyLevel: intOption("q4-accuracy-level", values["q4-accuracy-level"]),
      externalDataThreshold:
        intOption("external-data", values["external-data"]) ?? (edge ? 1024 : undefined),
      stages: budgetBytes !== undefined ? undefined : (stages ?? (edge ? "per-layer" : undefined)),
      budgetBytes,
      skipReport: values["no-report"],
      memoryProfile: !values["no-memory-profile"],
      guard,
      name: values.name,
      repo: values.repo,
      revision: values.revision,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    const report = result.manifest.quantizationReport?.[quant];
    // With --no-report only the guard's numbers exist: print its table alone.
    if (report && (report.prompts.length > 0 || report.imageEmbedsCosineMin !== undefined)) {
      io.stdout.write(`${formatReport(quant, report)}\n`);
    }
    if (report?.guard) io.stdout.write(`${formatGuard(report.guard)}\n`);
    if (result.stagePlan) io.stdout.write(`${formatStagePlan(result.stagePlan)}\n`);
    io.stdout.write(
      `wrote ${out}/manifest.json (${result.manifest.graphs.map(graphSummary).join(", ")}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    if (report?.guard && !report.guard.met && report.guard.fp32Budget?.limited) {
      const mb = (b: number) => (b / 1e6).toFixed(1);
      const { achieved, fp32Budget } = report.guard;
      io.stderr.write(
        `prepare: the accuracy guard could not meet its targets within ${mb(fp32Budget.maxBytes)} MB of fp32 weights (--guard-max-fp32-mb${values.edge ? ", sized for a 128 MB isolate under --edge" : ""}): the bundle is written with ${report.guard.fp32Linears} Linear(s) in fp32 (+${mb(fp32Budget.usedBytes)} MB), worst token cosine ${achieved.tokenCosineMin.toFixed(5)}, ${achieved.embeds} ${achieved.embedsCosineMin.toFixed(5)}. Raise --guard-max-fp32-mb (a bigger bundle), lower --min-token-cosine / --min-embed-cosine, or --no-guard\n`,
      );
      return 1;
    }
    if (report?.guard && !report.guard.met) {
      io.stderr.write(
        `prepare: the accuracy guard could not meet its targets even with every Linear in fp32 (the int8 token embedding alone costs that much); the bundle is written with the all-fp32 plan. Lower --min-token-cosine / --min-embed-cosine, use --token-embedding fp32, or --no-guard\n`,
      );
      return 1;
    }
    return 0;
  },
};
