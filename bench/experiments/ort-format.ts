/**
 * Lever experiment: ORT format instead of ONNX protobuf for onnxruntime-web.
 * Converts a cached bench graph with onnxruntime-node (optimizedModelFilePath
 * *.ort, basic optimisations only, so the result is platform-neutral), then
 * loads the ONNX and the ORT file in fresh processes and prints the WASM heap
 * after session creation, with and without the session config entry
 * `session.use_ort_model_bytes_for_initializers` (onnxruntime-web itself
 * always sets `session.use_ort_model_bytes_directly=1`).
 *   npx tsx bench/experiments/ort-format.ts [model] [variant]
 * Note: onnxruntime-web frees the model buffer after session creation, so
 * `use_ort_model_bytes_for_initializers` would leave initializers pointing
 * into freed heap memory; it is measured, not recommended.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installWasmMemoryProbe } from "../../conditioning/memory/wasm-memory-probe.ts";

const MB = 1024 * 1024;

async function loadOnce(file: string, extra: string): Promise<void> {
  const probe = installWasmMemoryProbe();
  const ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
  const t0 = performance.now();
  await ort.InferenceSession.create(readFileSync(file), {
    executionProviders: ["wasm"],
    enableCpuMemArena: false,
    ...(extra ? { extra: { session: JSON.parse(extra) } } : {}),
  });
  const ms = performance.now() - t0;
  process.stdout.write(
    `${JSON.stringify({ file, extra: extra || undefined, create_ms: Math.round(ms), wasm_after_load_mb: Math.round(((probe.bytes() ?? 0) / MB) * 10) / 10 })}\n`,
  );
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "--load") return loadOnce(argv[1], argv[2] ?? "");
  const [model = "clip-vit-b32-text", variant = "q4"] = argv;
  const dir = join(process.env.CLIP_EDGE_BENCH_CACHE ?? ".cache/bench", model, variant);
  const onnx = join(dir, "model.onnx");
  const ortFile = join(dir, "model.ort");
  const node = await import("onnxruntime-node");
  await node.InferenceSession.create(onnx, {
    graphOptimizationLevel: "basic",
    optimizedModelFilePath: ortFile,
    logSeverityLevel: 3,
  });
  const self = fileURLToPath(import.meta.url);
  for (const [file, extra] of [
    [onnx, ""],
    [ortFile, ""],
    [ortFile, JSON.stringify({ "session.use_ort_model_bytes_for_initializers": "1" })],
  ]) {
    const run = spawnSync(process.execPath, ["--import", "tsx", self, "--load", file, extra], {
      encoding: "utf8",
    });
    process.stdout.write(run.stdout || run.stderr);
  }
}

await main(process.argv.slice(2));
