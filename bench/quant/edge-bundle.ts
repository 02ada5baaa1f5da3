import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeModelFile } from "../../node/onnx/write-model.ts";
import type { TextConfig } from "../../node/prepare/clip-config.ts";
import type { LinearEmitter } from "../../node/prepare/linear-emitters.ts";
import { buildTextGraph, stageLayers } from "../../node/prepare/text-graph.ts";
import { TOKEN_TABLE_FILE, tokenTableSafetensors } from "../../node/prepare/token-embedding.ts";
import type { TextTowerWeights } from "../../node/prepare/tower-weights.ts";
import { GENERATOR_VERSION, type PreparedModel } from "../synthetic/model-cache.ts";

export interface EdgeBundleSpec {
  model: string;
  variant: string;
  /** Changes whenever what the files contain changes (cache key). */
  key: string;
  cfg: TextConfig;
  weights: TextTowerWeights;
  linear: LinearEmitter;
}

/**
 * An int8 text tower in the shape `prepare --quant int8 --edge` writes (one stage per
 * layer plus the head, initializers >= 1 KiB in `<stage>.onnx.data`, the int8 token
 * table outside the graph), in the bench model cache's layout (meta.json =
 * PreparedModel), so the bench's wasm-node loader and its workerd harness take it.
 * Reused from `dir` when its meta.json carries the same key.
 */
export function ensureEdgeBundle(cacheDir: string, spec: EdgeBundleSpec): PreparedModel {
  const dir = join(cacheDir, spec.model, spec.variant);
  const metaPath = join(dir, "meta.json");
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as PreparedModel & { key?: string };
    if (meta.key === spec.key) return { ...meta, dir };
  }
  const t0 = performance.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const { cfg, weights } = spec;
  const groups = cfg.numLayers;
  const stages: NonNullable<PreparedModel["stages"]> = [];
  for (let i = 0; i <= groups; i++) {
    const built = buildTextGraph(cfg, weights, {
      quantization: "int8",
      linear: spec.linear,
      tokenEmbedding: "external-int8",
      stage: stageLayers(cfg.numLayers, groups, i),
      producerVersion: `bench-${spec.variant}`,
    });
    const written = writeModelFile(join(tmp, `stage${i}.onnx`), built.model, {
      externalDataThreshold: 1024,
    });
    stages.push({
      graph: written.file,
      ...(written.externalData ? { externalData: written.externalData.file } : {}),
      bytes: written.bytes,
      externalBytes: written.externalData?.bytes ?? 0,
    });
  }
  const table = tokenTableSafetensors(weights.tokenEmbedding, cfg.vocabSize, cfg.hiddenSize);
  writeFileSync(join(tmp, TOKEN_TABLE_FILE), table);
  const meta = {
    version: GENERATOR_VERSION,
    key: spec.key,
    model: spec.model,
    variant: spec.variant,
    graph: stages[0].graph,
    ...(stages[0].externalData ? { externalData: stages[0].externalData } : {}),
    stages,
    embeddings: {
      file: TOKEN_TABLE_FILE,
      bytes: table.byteLength,
      vocabSize: cfg.vocabSize,
      width: cfg.hiddenSize,
    },
    graphBytes: stages.reduce((n, st) => n + st.bytes, 0),
    externalBytes: stages.reduce((n, st) => n + st.externalBytes, 0),
    embeddingBytes: table.byteLength,
    buildMs: performance.now() - t0,
  };
  writeFileSync(join(tmp, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(cacheDir, spec.model), { recursive: true });
  renameSync(tmp, dir);
  return { ...meta, dir };
}

/** Every file of the bundle's text tower, in bytes (stages, their data, the token table). */
export function edgeBundleBytes(p: PreparedModel): number {
  return p.graphBytes + p.externalBytes + p.embeddingBytes;
}
