/**
 * Per-isolate registry of models: manifests, tokenizers and one lazily created,
 * micro-batched session per graph. Nothing loads at start-up (Workers allow 1 s
 * of start-up); the first request for a model loads it, concurrent first
 * requests share the same promise, and a failed load is retried on the next
 * request.
 *
 * Loads go through the isolate's memory budget (MEMORY_BUDGET_MB,
 * worker/inference/memory-budget.ts): a graph that cannot fit even alone runs
 * on the origin when one is configured (else 503 over_capacity); one that fits
 * alone but not beside the loaded ones first evicts idle models (least recently
 * used, released from the WASM heap), else answers 503 over_capacity.
 */
import { graphLoadBytes } from "../../conditioning/bundle/graph-files.ts";
import type { BundleManifest, GraphEntry } from "../../conditioning/bundle/manifest.ts";
import { type RowCacheStats, withRowCache } from "../../conditioning/encoder/row-cache-session.ts";
import {
  withTokenEmbeds,
  withTokenPrefetch,
} from "../../conditioning/encoder/token-embeds-session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import {
  type GraphMemoryCost,
  graphMemoryCost,
  runBytes,
} from "../../conditioning/memory/memory-model.ts";
import { loadTokenizer, type Tokenizer } from "../../conditioning/tokenizer/index.ts";
import {
  type BatchedSession,
  type BatchStats,
  createBatchedSession,
} from "../inference/batched-session.ts";
import type { MemoryBudget, MemoryBudgetReport } from "../inference/memory-budget.ts";
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
  batch: () => { windowMs: number; maxBatch: number; maxQueuedRows?: number };
  /** Bytes of encoded rows kept per text session (conditioning/encoder/row-cache-session.ts; 0 = none). */
  rowCacheBytes?: () => number;
  /** The isolate's WASM heap budget: every edge graph's load and runs are sized by it. */
  memory: MemoryBudget;
  /** Optional extra cap on one graph's bytes (with external data; 0 = none). */
  maxGraphBytes: () => number;
  /** A model unused this long (ms) and with nothing queued may be evicted to load another (default 1000). */
  evictAfterMs?: number;
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
  /** The session's encoded-row cache (edge sessions). */
  rowCache?: RowCacheStats;
}

export interface ModelRegistry {
  /** The manifest (cheap: cached per isolate after the first read). */
  manifest(id: string): Promise<LoadedManifest>;
  get(id: string): Promise<LoadedModel>;
  list(): Promise<string[]>;
  sessions(): SessionReport[];
  /** This isolate's WASM heap (undefined until a graph was loaded here). */
  heap(): WasmHeapReport | undefined;
  /** The memory budget: what it allows, what the loaded graphs and runs use. */
  memory(): MemoryBudgetReport & { evictions: number };
}

interface Resident {
  model: LoadedModel;
  lastUsed: number;
  /** Set once loaded at the edge: whether rows wait or run, and how to free it. */
  busy?: () => boolean;
  release?: () => Promise<void>;
  evicted?: boolean;
}

export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const { store, memory } = options;
  const evictAfterMs = options.evictAfterMs ?? 1000;
  const manifests = new Map<string, Promise<LoadedManifest>>();
  const models = new Map<string, Resident>();
  const sessionStats: SessionReport[] = [];
  let evictions = 0;
  let runtime: OrtRuntime | undefined;
  const getRuntime = () => {
    runtime ??= options.runtime();
    return runtime;
  };
  const budgetName = () => `MEMORY_BUDGET_MB=${memory.budgetBytes() / 1e6}`;

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

  /** Frees idle models, least recently used first, until `cost` fits; true when it does. */
  async function evictFor(id: string, cost: GraphMemoryCost, minRun: number): Promise<boolean> {
    const now = Date.now();
    const idle = [...models.entries()]
      .filter(
        ([key, r]) => key !== id && r.release && !r.busy?.() && now - r.lastUsed >= evictAfterMs,
      )
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, resident] of idle) {
      if (memory.wouldFit(cost, minRun)) break;
      resident.evicted = true;
      models.delete(key);
      memory.removeGraph(key);
      evictions++;
      await resident.release!();
    }
    return memory.wouldFit(cost, minRun);
  }

  /** The text session in this isolate (budgeted) or on the origin (too big for the budget). */
  async function openText(id: string, m: BundleManifest, resident: Resident) {
    const graph = textGraph(id, m);
    const arch = m.architecture.text;
    if (!arch) {
      throw new ClipEdgeError(
        "integrity",
        `model ${id}: the manifest has a text graph but no architecture.text`,
      );
    }
    const cost = graphMemoryCost(graph, arch);
    const minRun = runBytes(cost, 1, arch.maxPositions);
    const size = graphLoadBytes(graph);
    const cap = options.maxGraphBytes();
    const overCap = cap > 0 && size > cap;
    if (overCap || !memory.wouldFit(cost, minRun, true)) {
      const origin = options.origin();
      if (origin)
        return { session: await createRemoteTextSession(origin), runsOn: "origin" as const };
      const why = overCap
        ? `its text graph ${graph.file} is ${size} bytes (graph + external data, all stages), over MAX_GRAPH_BYTES=${cap}`
        : `it needs ~${mb(cost.runtimeBytes + cost.loadBytes + minRun)} MB of WASM heap (runtime ${mb(cost.runtimeBytes)} + graph ${mb(cost.loadBytes)} + one ${arch.maxPositions}-token row ${mb(minRun)}, ${cost.source}), over ${budgetName()} even alone`;
      throw new ClipEdgeError(
        "over_capacity",
        `model ${id} does not fit this isolate: ${why}; use a quantised edge bundle (prepare --quant int8 --edge), raise the limit, or configure the origin (ORIGIN_URL, ORIGIN_SECRET)`,
        { details: { budget_bytes: memory.budgetBytes(), needed_bytes: cost.loadBytes + minRun } },
      );
    }
    if (!memory.wouldFit(cost, minRun) && !(await evictFor(id, cost, minRun))) {
      const used = memory.report();
      throw new ClipEdgeError(
        "over_capacity",
        `model ${id} needs ~${mb(cost.loadBytes + minRun)} MB of WASM heap beside the loaded models (${used.graphs.map((g) => g.graph).join(", ")}: ${mb(used.estimated_bytes)} MB of ${budgetName()}), and none of them is idle; retry shortly`,
        { details: { budget_bytes: memory.budgetBytes(), needed_bytes: cost.loadBytes + minRun } },
      );
    }
    memory.addGraph(id, cost);
    try {
      const tokenRows =
        graph.tokenEmbedding === "external-int8"
          ? await openTokenTable(store, id, m, graph)
          : undefined;
      const session = await createEdgeTextSession(store, getRuntime(), id, graph);
      resident.release = async () => {
        await (session as { release?: () => Promise<void> }).release?.();
      };
      return { session, runsOn: "edge" as const, tokenRows, cost };
    } catch (error) {
      memory.removeGraph(id);
      throw error;
    }
  }

  async function get(id: string): Promise<LoadedModel> {
    const loaded = await manifest(id);
    const cached = models.get(id);
    if (cached && cached.model.hash === loaded.hash) {
      cached.lastUsed = Date.now();
      return cached.model;
    }
    const m = loaded.manifest;
    const sourceFiles = m.source?.files ?? {};
    const resident: Resident = { lastUsed: Date.now() } as Resident;
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
        const { windowMs, maxBatch, maxQueuedRows } = options.batch();
        const opened = await openText(id, m, resident);
        // Token rows: read into the LRU per request over the queue, expanded to float32
        // under it when the batch runs (token-table.ts).
        const inner = opened.tokenRows
          ? withTokenEmbeds(opened.session, opened.tokenRows, getRuntime().tensor)
          : opened.session;
        const batched = createBatchedSession({
          session: inner,
          tensor: getRuntime().tensor,
          windowMs,
          maxBatch,
          label,
          maxQueuedRows,
          ...(opened.cost
            ? {
                memory: {
                  budget: memory,
                  tokenBytes: opened.cost.tokenBytes,
                  describe: budgetName(),
                },
              }
            : {}),
        });
        resident.busy = batched.busy;
        // Above the queue and the token-row reads: a row seen before costs neither.
        const session = withRowCache(
          opened.tokenRows ? withTokenPrefetch(batched, opened.tokenRows) : batched,
          { maxBytes: options.rowCacheBytes ?? (() => 0), tensor: getRuntime().tensor },
        );
        sessionStats.push({
          model: id,
          graph: graph.file,
          runs_on: opened.runsOn,
          stats: batched.stats,
          rowCache: session.rowCache,
        });
        return {
          ...session,
          run(feeds, fetches) {
            resident.lastUsed = Date.now();
            // Evicted between this request's get() and its run: load it again.
            if (resident.evicted)
              return get(id)
                .then((again) => again.textSession())
                .then((s) => s.run(feeds, fetches));
            return session.run(feeds, fetches);
          },
        } as BatchedSession;
      }),
    };
    resident.model = model;
    models.set(id, resident);
    return model;
  }

  return {
    manifest,
    get,
    list: () => store.listModels(),
    sessions: () =>
      sessionStats.map((s) => ({
        ...s,
        stats: { ...s.stats },
        ...(s.rowCache ? { rowCache: { ...s.rowCache } } : {}),
      })),
    heap: () => runtime?.heap(),
    memory: () => ({ ...memory.report(), evictions }),
  };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
