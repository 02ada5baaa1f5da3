/**
 * Issue #14 part 3 in workerd (wrangler's local runtime): the spike's kernels vs
 * onnxruntime-web's MatMulInteger, through bench/workerd/kernel-worker.ts.
 * workerd's clocks stand still during CPU work, so requests are timed from
 * outside: each sample is two back-to-back requests of one kernel, `lo` and
 * `hi` calls, and counts (t_hi - t_lo) / (hi - lo), which cancels the round
 * trip and the request's fixed cost; kernels round-robin, medians.
 *
 *   bench/kernels/build.sh
 *   WRANGLER_SEND_METRICS=false npx tsx bench/kernels/run-workerd.ts [rounds] [lo] [hi]
 *
 * Writes bench/.out/kernels/workerd.json.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { summarize } from "../harness.ts";
import { startBenchWorker } from "../workerd/start-bench-worker.ts";
import { gemmInputs, type KernelName, SHAPES } from "./gemm-cases.ts";
import { type GemmRow, gemmRows, printGemmRows } from "./gemm-report.ts";
import { buildMatMulIntegerModel } from "./matmulinteger-model.ts";

const OUT = fileURLToPath(new URL("../.out/kernels/", import.meta.url));
const CONFIG = fileURLToPath(new URL("../workerd/kernel-wrangler.toml", import.meta.url));
const rounds = Number(process.argv[2] ?? 10);
const lo = Number(process.argv[3] ?? 2);
const hi = Number(process.argv[4] ?? 10);

const worker = await startBenchWorker({ config: CONFIG });
const call = async (path: string, init?: Parameters<typeof worker.fetch>[1]) => {
  const res = await worker.fetch(`http://kernels${path}`, init);
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`workerd ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
};
const rows: GemmRow[] = [];
try {
  const noop: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await call("/noop");
    noop.push(performance.now() - t);
  }
  const rtt = summarize(noop).median_ms;
  console.log(`no-op round trip ${rtt.toFixed(2)} ms`);
  for (const [i, s] of SHAPES.entries()) {
    const model = buildMatMulIntegerModel(s, gemmInputs(s, 1400 + i).b, 128);
    const setup = await call(`/setup?shape=${i}`, { method: "POST", body: model });
    if (i === 0) console.log("relaxed dot probes:", JSON.stringify(setup.probes));
    const checks = setup.checks as Partial<Record<KernelName, string>>;
    const kernels = setup.kernels as KernelName[];
    for (const [name, check] of Object.entries(checks)) {
      if (check !== "exact") console.log(`${name} ${s.label}: ${check} (not timed)`);
    }
    const samples: Partial<Record<KernelName, number[]>> = {};
    for (let round = -2; round < rounds; round++) {
      for (const kernel of kernels) {
        const time = async (iters: number) => {
          const t = performance.now();
          await call(`/run?kernel=${kernel}&iters=${iters}`, { method: "POST" });
          return performance.now() - t;
        };
        const ms = (-(await time(lo)) + (await time(hi))) / (hi - lo);
        if (round >= 0) samples[kernel] = [...(samples[kernel] ?? []), ms];
      }
    }
    rows.push(...gemmRows("workerd", s, samples, checks));
  }
} finally {
  await worker.dispose();
}
printGemmRows(rows, console.log);
writeFileSync(`${OUT}workerd.json`, `${JSON.stringify(rows, null, 2)}\n`);
