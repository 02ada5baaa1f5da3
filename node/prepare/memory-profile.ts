/**
 * `prepare`'s memory profile of a text graph: what it costs onnxruntime-web's
 * WASM heap, measured in a fresh Node process (memory-profile-child.ts) with
 * the worker's session options, and written into the manifest
 * (`graphs[].memory`, conditioning/memory/memory-model.ts). The worker's memory
 * budget sizes model loads and micro-batches from it.
 *
 * The heap is only observable in growth steps (>= 5 % of its size), so the
 * per-token cost is measured over one large run (`rows` x the model's full
 * sequence) to keep the step small beside it; the reader adds a margin.
 */
import { fileURLToPath } from "node:url";
import type { GraphMemoryProfile } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { runJsonChild } from "../runtime/json-child.ts";
import type { MemoryProbeArgs, MemoryProbeResult } from "./memory-profile-child.ts";

export interface MemoryProfileOptions {
  /** The bundle folder (manifest.json written, with the text graph). */
  dir: string;
  /** Rows of the probe run (default 32). */
  rows?: number;
  /** Positions per row: the model's sequence length. */
  tokens: number;
  timeoutMs?: number;
}

const CHILD = fileURLToPath(new URL("./memory-profile-child.ts", import.meta.url));

export async function measureTextGraphMemory(
  options: MemoryProfileOptions,
): Promise<GraphMemoryProfile> {
  const rows = options.rows ?? 32;
  const args: MemoryProbeArgs = { dir: options.dir, rows, tokens: options.tokens };
  let result: MemoryProbeResult | undefined;
  try {
    [result] = await runJsonChild<MemoryProbeResult>(CHILD, args, {
      timeoutMs: options.timeoutMs ?? 600_000,
    });
  } catch (cause) {
    throw new ClipEdgeError(
      "internal",
      `prepare: the memory profile of ${options.dir} failed: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!result) {
    throw new ClipEdgeError(
      "internal",
      `prepare: the memory profile of ${options.dir} printed nothing`,
    );
  }
  const r = result;
  return {
    runtime: r.runtime,
    runtimeBytes: r.runtimeBytes,
    loadBytes: r.loadedBytes - r.runtimeBytes,
    tokenBytes: Math.ceil((r.ranBytes - r.loadedBytes) / (rows * options.tokens)),
    probes: [{ rows, tokens: options.tokens, heapBytes: r.ranBytes }],
  };
}
