/**
 * Per-isolate registry of models: manifests, tokenizers and one lazily created,
 * micro-batched session per graph. Nothing loads at start-up (Workers allow 1 s
 * of start-up); the first request for a model loads it, concurrent first
 * requests share the same promise, and a failed load is retried on the next
 * request.
 */
import { graphLoadBytes } from "../../conditioning/bundle/graph-files.ts";
import type { BundleManifest, GraphEntry } from "../../conditioning/bundle/manifest.ts";
import type { InferenceSessionLike } from "../../conditioning/encoder/session.ts";
import type { TokenEmbeddingRows } from "../../conditioning/encoder/token-embedding-rows.ts";
import { withTokenEmbeds } from "../../conditioning/encoder/token-embeds-session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { loadTokenizer, type Tokenizer } from "../../conditioning/tokenizer/index.ts";
import {
  type BatchedSession,
  type BatchStats,
  createBatchedSession,
} from "../inference/batched-session.ts";
import { createRemoteTextSession, type OriginClient } from "../origin-client/index.ts";
import type { OrtRuntime, WasmHeapReport } from "../runtime/ort-runtime.ts";
import { awaitShared } from "../runtime/own-context.ts";
import type { BundleStore, LoadedManifest } from "./bundle-store.ts";
import { createEdgeTextSession } from "./edge-session.ts";
import { openTokenTable } from "./token-table.ts";

export interface ModelRegistryOptions {
  store: BundleStore;
  /** Creates the onnxruntime-web runtime on first use. */
  runtime: () => OrtRuntime;
  batch: () => { windowMs: number; maxBatch: number };
  /** Graphs above this size (bytes, with external data; 0 = no limit) are not loaded here. */
  maxGraphBytes: () => number;
  /** Where graphs too big for the isolate run, if anywhere. */
  origin: () => OriginClient | undefined;
}

export interface LoadedModel {
  id: string;
  hash: string;
  manifest: BundleManifest;
  tokenizer(): Promise<Tokenizer>;
  /** The micro-batched session of the text graph. */
  textSession(): Promise<BatchedSession>;
  tensor: OrtRuntime["tensor"];
}

export interface SessionReport {
  model: string;
  graph: string;
  /** "edge": onnxruntime-web in this isolate; "origin": remote session on the origin. */
  runs_on: "edge" | "origin";
  stats: BatchStats;
}

export interface ModelRegistry {
  /** The manifest (cheap: cached per isolate after the first read). */
  manifest(id: string): Promise<LoadedManifest>;
  get(id: string): Promise<LoadedModel>;
  list(): Promise<string[]>;
  sessions(): SessionReport[];
  /** This isolate's WASM heap (undefined until a graph was loaded here). */
  heap(): WasmHeapReport | undefined;
}

export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const { store } = options;
  const manifests = new Map<string, Promise<LoadedManifest>>();
  const models = new Map<string, LoadedModel>();
  const sessionStats: SessionReport[] = [];
  let runtime: OrtRuntime | undefined;
  const getRuntime = () => {
    runtime ??= options.runtime();
    return runtime;
  };

  function memo<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let promise = map.get(key);
    if (!promise) {
      promise = load();
      map.set(key, promise);
      promise.catch(() => map.delete(key));
    }
    return awaitShared(promise);
  }

  function manifest(id: string): Promise<LoadedManifest> {
    return memo(manifests, id, () => store.getManifest(id));
  }

  function once<T>(load: () => Promise<T>): () => Promise<T> {
    let promise: Promise<T> | undefined;
    return () => {
      if (!promise) {
        promise = load();
        promise.catch(() => {
          promise = undefined;
        });
      }
      return awaitShared(promise);
    };
  }

  function textGraph(id: string, m: BundleManifest): GraphEntry {
    const graph = m.graphs.find((g) => g.kind === "text");
    if (!graph) throw new ClipEdgeError("invalid_request", `model ${id} has no text graph`);
    return graph;
  }

  async function get(id: string): Promise<LoadedModel> {
    const loaded = await manifest(id);
    const cached = models.get(id);
    if (cached && cached.hash === loaded.hash) return cached;
    const m = loaded.manifest;
    const sourceFiles = m.source?.files ?? {};
    const model: LoadedModel = {
      id,
      hash: loaded.hash,
      manifest: m,
      tensor: (type, data, dims) => getRuntime().tensor(type, data, dims),
      tokenizer: once(() =>
        loadTokenizer(
          async (name) => {
            if (!m.tokenizer.files.includes(name)) return null;
            return store.getFile(id, name, sourceFiles[name]);
          },
          { where: `model ${id}` },
        ),
      ),
      textSession: once(async () => {
        const graph = textGraph(id, m);
        const label = `${id}/${graph.file}`;
        const { windowMs, maxBatch } = options.batch();
        const size = graphLoadBytes(graph);
        const limit = options.maxGraphBytes();
        let session: InferenceSessionLike;
        let runsOn: "edge" | "origin" = "edge";
        let tokenRows: TokenEmbeddingRows | undefined;
        if (limit > 0 && size > limit) {
          const origin = options.origin();
          if (!origin) {
            throw new ClipEdgeError(
              "unavailable",
              `model ${id}: text graph ${graph.file} is ${size} bytes, (graph + external data, all stages) over MAX_GRAPH_BYTES=${limit} for this isolate (isolates have 128 MB; docs/worker.md sizes the limit per bundle shape); use a quantised edge bundle (prepare --quant int8 --edge), raise MAX_GRAPH_BYTES for one, or configure the origin (ORIGIN_URL, ORIGIN_SECRET)`,
            );
          }
          session = await createRemoteTextSession(origin);
          runsOn = "origin";
        } else {
          if (graph.tokenEmbedding === "external-int8") {
            tokenRows = await openTokenTable(store, id, m, graph);
          }
          session = await createEdgeTextSession(store, getRuntime(), id, graph);
        }
        const batched = createBatchedSession({
          session,
          tensor: getRuntime().tensor,
          windowMs,
          maxBatch,
          label,
        });
        sessionStats.push({ model: id, graph: graph.file, runs_on: runsOn, stats: batched.stats });
        // Rows gathered by range over the batched session (why over: token-table.ts).
        return tokenRows ? withTokenEmbeds(batched, tokenRows, getRuntime().tensor) : batched;
      }),
    };
    models.set(id, model);
    return model;
  }

  return {
    manifest,
    get,
    list: () => store.listModels(),
    sessions: () => sessionStats.map((s) => ({ ...s, stats: { ...s.stats } })),
    heap: () => runtime?.heap(),
  };
}
