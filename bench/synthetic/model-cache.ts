import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { QuantizationReport } from "../../conditioning/bundle/manifest.ts";
import { writeModelFile } from "../../node/onnx/write-model.ts";
import { TOKEN_TABLE_FILE, tokenTableSafetensors } from "../../node/prepare/token-embedding.ts";
import type { TextTowerWeights, VisionTowerWeights } from "../../node/prepare/tower-weights.ts";
import type { ModelSpec } from "./model-specs.ts";
import { synthTextWeights, synthVisionWeights } from "./synthetic-weights.ts";
import { buildVariantGraph, type VariantSpec } from "./variants.ts";

/** Bump when the generator or the graph builders change what a cached model contains. */
export const GENERATOR_VERSION = 3;

export interface PreparedModel {
  model: string;
  variant: string;
  dir: string;
  /** The .onnx file. */
  graph: string;
  /** `<graph>.data` when initializers are external. */
  externalData?: string;
  /** Staged graphs (variant.stages): each stage's graph and external data, in run order; `graph` is stage 0. */
  stages?: { graph: string; externalData?: string; bytes: number; externalBytes: number }[];
  /**
   * The token table outside the graph (`token_embedding.safetensors`, as `prepare
   * --token-embedding external-int8` writes it), read by row at run time.
   */
  embeddings?: { file: string; bytes: number; vocabSize: number; width: number };
  graphBytes: number;
  externalBytes: number;
  embeddingBytes: number;
  buildMs: number;
  report?: QuantizationReport;
}

export interface ModelCache {
  /** Builds (once) and returns the variant's files. */
  ensure(spec: ModelSpec, variant: VariantSpec): PreparedModel;
  /** Stores the quantisation report beside the variant. */
  saveReport(prepared: PreparedModel, report: QuantizationReport): void;
}

export interface ModelCacheOptions {
  dir: string;
  log?: (line: string) => void;
}

export function createModelCache(options: ModelCacheOptions): ModelCache {
  const log = options.log ?? (() => {});
  const weights = new Map<string, TextTowerWeights | VisionTowerWeights>();
  const weightsOf = (spec: ModelSpec) => {
    let w = weights.get(spec.id);
    if (!w) {
      w =
        spec.kind === "text"
          ? synthTextWeights(spec.config, spec.projectionDim)
          : synthVisionWeights(spec.config, spec.projectionDim);
      weights.clear(); // one model's weights at a time (CLIP-L fp32 is ~500 MB)
      weights.set(spec.id, w);
    }
    return w;
  };

  function ensure(spec: ModelSpec, variant: VariantSpec): PreparedModel {
    const dir = join(options.dir, spec.id, variant.id);
    const metaPath = join(dir, "meta.json");
    if (existsSync(metaPath)) {
      const meta = JSON.parse(readFileSync(metaPath, "utf8")) as PreparedModel & {
        version: number;
      };
      if (meta.version === GENERATOR_VERSION) return { ...meta, dir };
    }
    log(`generating ${spec.id} ${variant.id} in ${dir}`);
    const t0 = performance.now();
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const w = weightsOf(spec);
    // variant.stages layer groups + the head stage (node/prepare/text-graph.ts stageLayers).
    const stageCount = variant.stages ? variant.stages + 1 : 1;
    const stages: NonNullable<PreparedModel["stages"]> = [];
    for (let i = 0; i < stageCount; i++) {
      const model = buildVariantGraph(spec, w, variant, variant.stages ? i : undefined);
      const written = writeModelFile(
        join(tmp, variant.stages ? `stage${i}.onnx` : "model.onnx"),
        model,
        { externalDataThreshold: variant.externalData ? 1024 : undefined },
      );
      stages.push({
        graph: written.file,
        ...(written.externalData ? { externalData: written.externalData.file } : {}),
        bytes: written.bytes,
        externalBytes: written.externalData?.bytes ?? 0,
      });
    }
    let embeddingBytes = 0;
    let embeddings: PreparedModel["embeddings"];
    if (variant.embeddingsOutside && spec.kind === "text") {
      const { vocabSize, hiddenSize } = spec.config;
      const bytes = tokenTableSafetensors(
        (w as TextTowerWeights).tokenEmbedding,
        vocabSize,
        hiddenSize,
      );
      writeFileSync(join(tmp, TOKEN_TABLE_FILE), bytes);
      embeddingBytes = bytes.byteLength;
      embeddings = {
        file: TOKEN_TABLE_FILE,
        bytes: bytes.byteLength,
        vocabSize,
        width: hiddenSize,
      };
    }
    const meta = {
      version: GENERATOR_VERSION,
      model: spec.id,
      variant: variant.id,
      graph: stages[0].graph,
      ...(stages[0].externalData ? { externalData: stages[0].externalData } : {}),
      ...(variant.stages ? { stages } : {}),
      ...(embeddings ? { embeddings } : {}),
      // Sums over the stages (one stage when unstaged).
      graphBytes: stages.reduce((n, st) => n + st.bytes, 0),
      externalBytes: stages.reduce((n, st) => n + st.externalBytes, 0),
      embeddingBytes,
      buildMs: performance.now() - t0,
    };
    writeFileSync(join(tmp, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(options.dir, spec.id), { recursive: true });
    renameSync(tmp, dir);
    return { ...meta, dir };
  }

  function saveReport(prepared: PreparedModel, report: QuantizationReport) {
    const metaPath = join(prepared.dir, "meta.json");
    const meta = JSON.parse(readFileSync(metaPath, "utf8"));
    writeFileSync(metaPath, `${JSON.stringify({ ...meta, report }, null, 2)}\n`);
    prepared.report = report;
  }

  return { ensure, saveReport };
}

export function filePath(prepared: PreparedModel, file: string): string {
  return join(prepared.dir, file);
}
