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
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { GraphMemoryProfile } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
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
  // tsx's loader, resolved from this package (not the caller's folder).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, CHILD, JSON.stringify(args)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  const line = out.split("\n").find((l) => l.startsWith("{"));
  if (code !== 0 || !line) {
    throw new ClipEdgeError(
      "internal",
      `prepare: the memory profile of ${options.dir} failed (exit ${code}): ${err.trim().split("\n").slice(-4).join(" | ")}`,
    );
  }
  const r = JSON.parse(line) as MemoryProbeResult;
  return {
    runtime: r.runtime,
    runtimeBytes: r.runtimeBytes,
    loadBytes: r.loadedBytes - r.runtimeBytes,
    tokenBytes: Math.ceil((r.ranBytes - r.loadedBytes) / (rows * options.tokens)),
    probes: [{ rows, tokens: options.tokens, heapBytes: r.ranBytes }],
  };
}
