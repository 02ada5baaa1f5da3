/**
 * What a graph entry of a manifest consists of on storage: its stages (one for
 * an unstaged graph) and every file they need. Every reader (worker, origin,
 * CLI, start-up seeding) goes through these, so a new kind of file is added
 * in one place.
 */
import { ClipEdgeError } from "../errors.ts";
import type { BundleFile, BundleManifest, GraphEntry, GraphStage } from "./manifest.ts";

/** The stages of a graph in run order; an unstaged graph is one stage covering every layer. */
export function graphStages(entry: GraphEntry, numLayers = 0): GraphStage[] {
  if (entry.stages && entry.stages.length > 0) return entry.stages;
  return [
    {
      file: entry.file,
      bytes: entry.bytes,
      sha256: entry.sha256,
      layers: [0, numLayers],
      inputs: entry.inputs,
      outputs: entry.outputs,
      ...(entry.externalData ? { externalData: entry.externalData } : {}),
    },
  ];
}

/** Every file a graph needs: stage graphs, their external data, the external token table. */
export function graphFiles(entry: GraphEntry): BundleFile[] {
  const files: BundleFile[] = [];
  for (const stage of graphStages(entry)) {
    files.push({ file: stage.file, bytes: stage.bytes, sha256: stage.sha256 });
    files.push(...(stage.externalData ?? []));
  }
  if (entry.tokenEmbeddingTable) files.push(entry.tokenEmbeddingTable);
  return files;
}

/** Bytes of a graph that a runtime loads into its session (stages + external data, not the token table). */
export function graphLoadBytes(entry: GraphEntry): number {
  return graphStages(entry).reduce((sum, s) => sum + stageBytes(s), 0);
}

/** Names of every file the manifest refers to (graphs, tokenizer, preprocessor), without duplicates. */
export function bundleFileNames(manifest: BundleManifest): string[] {
  return [
    ...new Set([
      ...manifest.tokenizer.files,
      ...manifest.graphs.flatMap((g) => graphFiles(g).map((f) => f.file)),
      ...(manifest.preprocessor ? [manifest.preprocessor.file] : []),
    ]),
  ];
}

/** Throws `malformed` unless every file name of the entry is a plain name (no path) with a SHA-256. */
export function checkGraphFiles(entry: GraphEntry, where: string): void {
  for (const f of graphFiles(entry)) {
    if (
      typeof f.file !== "string" ||
      f.file === "" ||
      f.file.includes("/") ||
      f.file.includes("\\") ||
      typeof f.sha256 !== "string" ||
      typeof f.bytes !== "number"
    ) {
      throw new ClipEdgeError(
        "malformed",
        `${where}: ${entry.kind} graph file entry ${JSON.stringify(f.file)} is invalid (a plain file name with bytes and sha256 is required)`,
      );
    }
  }
}

/** Bytes a runtime holds while creating a stage's session (graph + external data). */
export interface SizedStage {
  bytes: number;
  externalData?: readonly { bytes: number }[];
}

export function stageBytes(stage: SizedStage): number {
  return stage.bytes + (stage.externalData ?? []).reduce((n, e) => n + e.bytes, 0);
}

/**
 * The order to create stage sessions in: largest first. The heap only grows,
 * so the stage whose bytes are held last should be the smallest: the peak is
 * max over stages of (heap after creating it + its bytes).
 */
export function stageLoadOrder(stages: readonly SizedStage[]): number[] {
  return stages
    .map((s, i) => ({ i, n: stageBytes(s) }))
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .map((x) => x.i);
}
