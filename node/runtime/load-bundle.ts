import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkGraphFiles } from "../../conditioning/bundle/graph-files.ts";
import {
  type BundleFile,
  type BundleManifest,
  type GraphEntry,
  MANIFEST_FORMAT_VERSION,
} from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface LoadedGraph {
  entry: GraphEntry;
  bytes: Uint8Array;
  /** External data files, as onnxruntime-web's `externalData` session option wants them. */
  externalData?: { path: string; data: Uint8Array }[];
}

export interface LoadedBundle {
  dir: string;
  manifest: BundleManifest;
  /** The graph entry of a tower, or undefined when the bundle has none. */
  graph(kind: "text" | "vision"): GraphEntry | undefined;
  /** Reads a one-file graph (and its external data), checked against the manifest; staged graphs throw. */
  readGraph(kind: "text" | "vision"): LoadedGraph;
  /** Reads a file named by a graph entry (a stage, external data, a token table), checked. */
  readBundleFile(file: BundleFile): Uint8Array;
  /** Reads (and checks) the external token-embedding table of a text graph, if it has one. */
  readTokenEmbeddingTable(): Uint8Array | undefined;
  /** Reads a tokenizer/preprocessor file listed in the manifest. */
  readFile(name: string): Uint8Array;
}

function readChecked(
  dir: string,
  file: string,
  bytes: number,
  sha256: string,
  verify: boolean,
): Uint8Array {
  const path = join(dir, file);
  if (!existsSync(path)) throw new ClipEdgeError("not_found", `bundle ${dir}: ${file} is missing`);
  const data = new Uint8Array(readFileSync(path));
  if (data.byteLength !== bytes) {
    throw new ClipEdgeError(
      "integrity",
      `bundle ${dir}: ${file} has ${data.byteLength} bytes, manifest says ${bytes}`,
    );
  }
  if (verify) {
    const actual = createHash("sha256").update(data).digest("hex");
    if (actual !== sha256) {
      throw new ClipEdgeError(
        "integrity",
        `bundle ${dir}: ${file} SHA-256 ${actual} does not match the manifest (${sha256})`,
      );
    }
  }
  return data;
}

/** Reads and validates `manifest.json` of a bundle folder (graph hashes are checked on read). */
export function loadBundle(dir: string, options: { verifyHashes?: boolean } = {}): LoadedBundle {
  const verify = options.verifyHashes ?? true;
  const path = join(dir, "manifest.json");
  if (!existsSync(path))
    throw new ClipEdgeError("not_found", `bundle ${dir}: manifest.json is missing`);
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8")) as BundleManifest;
  } catch (error) {
    throw new ClipEdgeError("malformed", `bundle ${dir}: manifest.json is not valid JSON`, {
      cause: error,
    });
  }
  if (manifest?.formatVersion !== MANIFEST_FORMAT_VERSION || !Array.isArray(manifest.graphs)) {
    throw new ClipEdgeError(
      "unsupported",
      `bundle ${dir}: manifest formatVersion ${JSON.stringify(manifest?.formatVersion)} is not ${MANIFEST_FORMAT_VERSION} or graphs is missing`,
    );
  }
  for (const g of manifest.graphs) checkGraphFiles(g, `bundle ${dir}`);
  const graph = (kind: "text" | "vision") => manifest.graphs.find((g) => g.kind === kind);
  return {
    dir,
    manifest,
    graph,
    readGraph(kind) {
      const entry = graph(kind);
      if (!entry) throw new ClipEdgeError("not_found", `bundle ${dir} has no ${kind} graph`);
      if (entry.stages && entry.stages.length > 1) {
        // Stage 0 alone would answer with hidden_out only: refuse rather than mislead.
        throw new ClipEdgeError(
          "unsupported",
          `bundle ${dir}: the ${kind} graph is staged (${entry.stages.length} stages); open it with openBundleGraphWeb or read each stage with readBundleFile`,
        );
      }
      const bytes = readChecked(dir, entry.file, entry.bytes, entry.sha256, verify);
      const externalData = entry.externalData?.map((e) => ({
        path: e.file,
        data: readChecked(dir, e.file, e.bytes, e.sha256, verify),
      }));
      return { entry, bytes, ...(externalData ? { externalData } : {}) };
    },
    readBundleFile(f) {
      return readChecked(dir, f.file, f.bytes, f.sha256, verify);
    },
    readTokenEmbeddingTable() {
      const t = graph("text")?.tokenEmbeddingTable;
      return t ? readChecked(dir, t.file, t.bytes, t.sha256, verify) : undefined;
    },
    readFile(name) {
      if (name.includes("/") || name.includes("\\")) {
        throw new ClipEdgeError(
          "invalid_input",
          `bundle ${dir}: file name ${name} must not contain a path`,
        );
      }
      const p = join(dir, name);
      if (!existsSync(p)) throw new ClipEdgeError("not_found", `bundle ${dir}: ${name} is missing`);
      return new Uint8Array(readFileSync(p));
    },
  };
}
