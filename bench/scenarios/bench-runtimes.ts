import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { stageLoadOrder } from "../../conditioning/bundle/graph-files.ts";
import type {
  AdaptedSession,
  OrtModuleLike,
  OrtSessionLike,
} from "../../node/runtime/adapt-session.ts";
import { adaptOrtSession } from "../../node/runtime/adapt-session.ts";
import { chainStages } from "../../node/runtime/bundle-session.ts";
import { createOrtNodeSession } from "../../node/runtime/ort-node-session.ts";
import { externalRanges } from "../experiments/external-ranges.ts";
import { ReleasingBytes } from "../experiments/releasing-external-data.ts";
import type { PreparedModel } from "../synthetic/model-cache.ts";
import { filePath } from "../synthetic/model-cache.ts";

export type BenchRuntime = "wasm-node" | "native";

/** Session knobs measured as levers (names as in the bench's `config` key). */
export interface SessionConfig {
  /** ORT CPU arena (default off, as in the worker). */
  arena?: boolean;
  /** ORT memory pattern planning (default on, onnxruntime's default). */
  memPattern?: boolean;
  /** Session config entries (onnxruntime-web `extra.session`). */
  extraSession?: Record<string, string>;
  /** Drop the JS copy of the model bytes after session creation (default true). */
  releaseBytes?: boolean;
  /**
   * External data as one buffer (default), or per-initializer chunks handed
   * over through ReleasingBytes: "chunks" only meters, "releasing" also drops
   * each chunk once onnxruntime-web has copied it.
   */
  externalData?: "buffer" | "chunks" | "releasing";
  /** Called during session creation at each external-data read (memory sampling). */
  onExternalRead?: () => void;
  /**
   * "tight": decline emscripten's heap over-growth (conditioning/memory/heap-growth.ts,
   * the worker's default); applied by the child through the memory probe.
   */
  heapGrowth?: "tight";
  /** Staged graphs: called after each stage's session is created, its bytes still held. */
  onStageCreated?: (heldBytes: number) => void;
}

function readChunks(prepared: PreparedModel, graph: Uint8Array, config: SessionConfig) {
  const path = filePath(prepared, prepared.externalData!);
  const fd = openSync(path, "r");
  try {
    const ranges = externalRanges(graph);
    const chunks = ranges.map((r) => {
      const data = new Uint8Array(r.length);
      readSync(fd, data, 0, r.length, r.offset);
      return { offset: r.offset, data };
    });
    return new ReleasingBytes(chunks, statSync(path).size, {
      release: config.externalData === "releasing",
      onRead: config.onExternalRead,
    });
  } finally {
    closeSync(fd);
  }
}

/** onnxruntime-web session options of every bench load (one thread, the lever knobs). */
function webSessionOptions(
  config: SessionConfig,
  externalData: { path: string; data: Uint8Array }[] | undefined,
) {
  return {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all" as const,
    enableCpuMemArena: config.arena ?? false,
    enableMemPattern: config.memPattern ?? true,
    logSeverityLevel: 3 as const,
    ...(externalData ? { externalData } : {}),
    ...(config.extraSession ? { extra: { session: config.extraSession } } : {}),
  };
}

export interface LoadedSession {
  session: AdaptedSession;
  /** ms reading the graph (+ external data) from disk. */
  readMs: number;
  /** ms creating the session (first one includes WASM runtime start-up). */
  createMs: number;
  /** Bytes of model data held in JS until `dropBytes()`. */
  heldBytes: number;
  dropBytes(): void;
}

/**
 * Loads a prepared model into onnxruntime-web (WASM, one thread, in this Node
 * process) or onnxruntime-node (one intra-op and one inter-op thread).
 */
export async function loadSession(
  runtime: BenchRuntime,
  prepared: PreparedModel,
  config: SessionConfig = {},
): Promise<LoadedSession> {
  if (prepared.stages) return loadStaged(runtime, prepared, config);
  const graphPath = filePath(prepared, prepared.graph);
  if (runtime === "native") {
    const t0 = performance.now();
    const session = await createOrtNodeSession(graphPath, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      enableCpuMemArena: config.arena ?? false,
      label: `${prepared.model}/${prepared.variant}`,
    });
    return {
      session,
      readMs: 0,
      createMs: performance.now() - t0,
      heldBytes: 0,
      dropBytes() {},
    };
  }
  const t0 = performance.now();
  // readFileSync's Buffer is a Uint8Array: no extra copy.
  let bytes: Uint8Array | undefined = readFileSync(graphPath);
  let external: { path: string; data: Uint8Array }[] | undefined = prepared.externalData
    ? [
        {
          path: prepared.externalData,
          data:
            (config.externalData ?? "buffer") === "buffer"
              ? (readFileSync(filePath(prepared, prepared.externalData)) as Uint8Array)
              : readChunks(prepared, bytes, config),
        },
      ]
    : undefined;
  const heldBytes = bytes.byteLength + (prepared.externalBytes ?? 0);
  const t1 = performance.now();
  const ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  const raw = await ort.InferenceSession.create(bytes, webSessionOptions(config, external));
  const t2 = performance.now();
  const session = adaptOrtSession(
    ort as unknown as OrtModuleLike,
    raw as unknown as OrtSessionLike,
    `${prepared.model}/${prepared.variant} (onnxruntime-web)`,
  );
  return {
    session,
    readMs: t1 - t0,
    createMs: t2 - t1,
    heldBytes,
    dropBytes() {
      bytes = undefined;
      external = undefined;
    },
  };
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/**
 * A staged model (prepare --stages): one session per stage, created in turn;
 * each stage's bytes are read just before and dropped right after its session
 * is created (then a GC in this Node child, which workerd does at its own
 * pace), so JS holds one stage at a time. The sessions are chained.
 */
async function loadStaged(
  runtime: BenchRuntime,
  prepared: PreparedModel,
  config: SessionConfig,
): Promise<LoadedSession> {
  const ort = runtime === "wasm-node" ? await import("onnxruntime-web") : undefined;
  if (ort) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "error";
  }
  const stages = prepared.stages!;
  const sessions: AdaptedSession[] = new Array(stages.length);
  let readMs = 0;
  let createMs = 0;
  let heldBytes = 0;
  // Largest first, as the worker does (conditioning/bundle/graph-files.ts stageLoadOrder).
  const order = stageLoadOrder(
    stages.map((s) => ({ bytes: s.bytes, externalData: [{ bytes: s.externalBytes }] })),
  );
  for (const i of order) {
    const stage = stages[i];
    const label = `${prepared.model}/${prepared.variant}/stage${i}`;
    const graphPath = filePath(prepared, stage.graph);
    if (!ort) {
      const t0 = performance.now();
      sessions[i] = await createOrtNodeSession(graphPath, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        enableCpuMemArena: config.arena ?? false,
        label,
      });
      createMs += performance.now() - t0;
      continue;
    }
    const t0 = performance.now();
    let bytes: Uint8Array | undefined = readFileSync(graphPath);
    let data: Uint8Array | undefined = stage.externalData
      ? readFileSync(filePath(prepared, stage.externalData))
      : undefined;
    const held = bytes.byteLength + (data?.byteLength ?? 0);
    heldBytes = Math.max(heldBytes, held);
    const t1 = performance.now();
    const raw = await ort.InferenceSession.create(
      bytes,
      webSessionOptions(config, data ? [{ path: stage.externalData!, data }] : undefined),
    );
    const t2 = performance.now();
    config.onStageCreated?.(held);
    bytes = undefined;
    data = undefined;
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    readMs += t1 - t0;
    createMs += t2 - t1;
    sessions[i] = adaptOrtSession(
      ort as unknown as OrtModuleLike,
      raw as unknown as OrtSessionLike,
      `${label} (onnxruntime-web)`,
    );
  }
  return {
    session: chainStages(sessions, `${prepared.model}/${prepared.variant}`),
    readMs,
    createMs,
    heldBytes,
    dropBytes() {},
  };
}
