/** Medians, GOPS and ratios vs onnxruntime-web for the spike's runners. */
import { summarize } from "../harness.ts";
import { type GemmShape, gemmOps, KERNELS, type KernelName } from "./gemm-cases.ts";

export interface GemmRow {
  runtime: string;
  shape: string;
  kernel: KernelName;
  median_ms: number;
  p95_ms: number;
  runs: number;
  gops: number;
  vs_ort: number;
  check: string;
}

export function gemmRows(
  runtime: string,
  s: GemmShape,
  samples: Partial<Record<KernelName, number[]>>,
  checks: Partial<Record<KernelName, string>>,
): GemmRow[] {
  const ort = summarize(samples["ort-matmulinteger"] ?? []).median_ms;
  return KERNELS.filter((k) => samples[k]?.length).map((kernel) => {
    const t = summarize(samples[kernel]!);
    return {
      runtime,
      shape: s.label,
      kernel,
      median_ms: Number(t.median_ms.toFixed(3)),
      p95_ms: Number(t.p95_ms.toFixed(3)),
      runs: t.runs,
      gops: Number((gemmOps(s) / (t.median_ms * 1e6)).toFixed(2)),
      vs_ort: Number((ort / t.median_ms).toFixed(2)),
      check: checks[kernel] ?? "unchecked",
    };
  });
}

export function printGemmRows(rows: GemmRow[], log: (line: string) => void): void {
  log("| runtime | shape | kernel | median ms | p95 ms | GOPS | x ORT | check |");
  log("|---|---|---|---:|---:|---:|---:|---|");
  for (const r of rows) {
    log(
      `| ${r.runtime} | ${r.shape} | ${r.kernel} | ${r.median_ms} | ${r.p95_ms} | ${r.gops} | ${r.vs_ort} | ${r.check} |`,
    );
  }
}
