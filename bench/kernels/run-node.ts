/**
 * Issue #14 part 3 in Node: the spike's kernels vs onnxruntime-web's
 * MatMulInteger (WASM, 1 thread, the worker's own adapter), CLIP-L shapes,
 * round-robin, medians. Node 20 needs the relaxed-SIMD flag (on by default from
 * V8 11.4 / Node 22):
 *
 *   bench/kernels/build.sh
 *   node --experimental-wasm-relaxed-simd --import tsx bench/kernels/run-node.ts [rounds]
 *
 * Writes bench/.out/kernels/node.json. Every kernel's output is checked against
 * the JS reference (exact i32 equality) before timing (gemm-cases.ts prepareShape).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-web/wasm";
import { createOrtRuntime, type OrtWebLike } from "../../worker/runtime/ort-runtime.ts";
import {
  type GemmRun,
  gemmInputs,
  type KernelModules,
  type KernelName,
  prepareShape,
  SHAPES,
} from "./gemm-cases.ts";
import { type GemmRow, gemmRows, printGemmRows } from "./gemm-report.ts";
import { buildMatMulIntegerModel } from "./matmulinteger-model.ts";

const OUT = fileURLToPath(new URL("../.out/kernels/", import.meta.url));
const rounds = Number(process.argv[2] ?? 15);

// The same binary the worker imports (worker/runtime/ort-wasm.ts), next to the package's entry.
const ortWasm = join(
  dirname(createRequire(import.meta.url).resolve("onnxruntime-web/wasm")),
  "ort-wasm-simd-threaded.wasm",
);
// The project's types are the Workers' WebAssembly (no compile-from-bytes there); Node has it.
const { compile: compileBytes } = WebAssembly as unknown as {
  compile(bytes: Uint8Array): Promise<WebAssembly.Module>;
};
const runtime = createOrtRuntime({
  ort: ort as unknown as OrtWebLike,
  wasmModule: await compileBytes(readFileSync(ortWasm)),
});
const compile = async (file: string) => {
  const bytes = readFileSync(`${OUT}${file}`);
  return WebAssembly.validate(bytes) ? await compileBytes(bytes) : undefined;
};
const modules: KernelModules = {
  simd: (await compile("gemm-simd.wasm"))!,
  relaxed: await compile("gemm-relaxed.wasm"),
  relaxedI16: await compile("gemm-relaxed-i16.wasm"),
};
if (!modules.relaxed)
  console.log("relaxed SIMD is not enabled in this V8: relaxed kernels skipped");

const rows: GemmRow[] = [];
for (const [i, s] of SHAPES.entries()) {
  const modelBytes = buildMatMulIntegerModel(s, gemmInputs(s, 1400 + i).b, 128);
  const { runs, checks, probes } = await prepareShape(s, 1400 + i, modules, {
    runtime,
    modelBytes,
  });
  if (i === 0) console.log("relaxed dot probes:", JSON.stringify(probes));
  const samples: Partial<Record<KernelName, number[]>> = {};
  for (let round = -3; round < rounds; round++) {
    for (const [name, r] of Object.entries(runs) as [KernelName, GemmRun][]) {
      const t = performance.now();
      await r.run();
      const ms = performance.now() - t;
      if (round >= 0) samples[name] = [...(samples[name] ?? []), ms];
    }
  }
  rows.push(...gemmRows(`node ${process.version}`, s, samples, checks));
  for (const [name, check] of Object.entries(checks)) {
    if (check !== "exact") console.log(`${name} ${s.label}: ${check} (not timed)`);
  }
}
printGemmRows(rows, console.log);
writeFileSync(`${OUT}node.json`, `${JSON.stringify(rows, null, 2)}\n`);
