import type { PrecisionGuardReport } from "../../conditioning/bundle/manifest.ts";

const KINDS = ["qkv", "out_proj", "fc1", "fc2"] as const;

/** prepare's per-layer table of the guard's plan (precision and estimated int8 error per Linear). */
export function formatGuard(r: PrecisionGuardReport): string {
  const layers = new Set(Object.keys(r.plan).map((n) => Number(/^layer(\d+)\./.exec(n)?.[1])));
  const cell = (name: string) => {
    const p = r.plan[name];
    if (!p) return "-".padEnd(22);
    const s = r.sensitivity[name];
    const err =
      p === "int8-smooth"
        ? s?.smoothed
        : p === "int8-split"
          ? s?.split
          : p === "int8-residual"
            ? s?.residual
            : s?.int8;
    return `${p} ${err === undefined ? "" : `(${err.toExponential(1)})`}`.padEnd(22);
  };
  const a = r.achieved;
  const count = (kind: string) => Object.values(r.plan).filter((p) => p === kind).length;
  const status = r.met ? "met" : "NOT MET";
  const margin = r.targets.margin ?? 0;
  return [
    `accuracy guard (${r.calibration.prompts} calibration prompts, smoothing alpha ${r.smoothingAlpha}, ${r.evaluations} end-to-end runs): ${status}`,
    `  worst token cosine ${a.tokenCosineMin.toFixed(6)} (target ${r.targets.tokenCosineMin}), mean ${a.tokenCosineMean.toFixed(6)}; worst ${a.embeds} cosine ${a.embedsCosineMin.toFixed(6)} (target ${r.targets.embedsCosineMin}); searched with ${margin * 100}% of each error budget in reserve`,
    `  ${r.fp32Linears} of ${Object.keys(r.plan).length} Linears kept in fp32, ${count("int8-residual")} with a residual int8 pass${r.residualBudget ? ` (${(r.residualBudget.usedShare * 100).toFixed(1)}% of the multiply-adds, cap ${(r.residualBudget.maxShare * 100).toFixed(0)}%)` : ""}, ${count("int8-split")} split${r.fp32Budget ? `; fp32 bytes added ${(r.fp32Budget.usedBytes / 1e6).toFixed(2)} MB of ${(r.fp32Budget.maxBytes / 1e6).toFixed(2)} MB` : ""}`,
    "  per Linear: precision (estimated worst relative row error in that precision)",
    `  layer  ${KINDS.map((k) => k.padEnd(22)).join("")}`,
    ...[...layers]
      .sort((x, y) => x - y)
      .map((l) => `  ${String(l).padEnd(5)}  ${KINDS.map((k) => cell(`layer${l}.${k}`)).join("")}`),
  ].join("\n");
}
