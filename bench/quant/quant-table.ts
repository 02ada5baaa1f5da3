import { fileURLToPath } from "node:url";
import {
  evaluatePlan,
  type GuardOptions,
  type PlanAccuracy,
} from "../../node/prepare/precision-guard.ts";
import type { BenchResult } from "../harness.ts";
import { runChild } from "../scenarios/child-process.ts";
import { round, toMb } from "../scenarios/stats.ts";
import type { PreparedModel } from "../synthetic/model-cache.ts";
import { measureWorkerdText } from "../workerd/workerd-bench.ts";
import { edgeBundleBytes, ensureEdgeBundle } from "./edge-bundle.ts";
import type { EdgeLatencyArgs } from "./edge-latency-child.ts";
import { type QuantSetup, quantSetup } from "./quant-rows.ts";

const CHILD = fileURLToPath(new URL("./edge-latency-child.ts", import.meta.url));
/** Bump when the lowerings change what a cached --edge bundle contains. */
const EDGE_CACHE_VERSION = 1;

export interface QuantTableOptions {
  dims: "l14" | "tiny";
  heldout: number;
  fixtures: string;
  cacheDir: string;
  guard: GuardOptions;
  /** Interleaved latency rounds (each row once per round). */
  rounds: number;
  /** Rows (ids or "guarded") whose --edge bundle is also loaded in workerd for its WASM heap. */
  workerd: string[];
  log: (line: string) => void;
}

export interface QuantTable {
  records: BenchResult[];
  markdown: string;
  setup: QuantSetup;
}

interface Latency {
  variant: string;
  case: "full" | "pooled";
  tokens: number;
  median_ms: number;
  p95_ms: number;
  runs: number;
}

const f5 = (x: number) => x.toFixed(5);

/**
 * Issue #11's comparison table in one run: accuracy of each int8 row against fp32 on
 * held-out prompts, its `--edge` bundle's size, Linears kept fp32, full-77 and pooled-8
 * latency of the four `--edge` bundles interleaved in one onnxruntime-web process
 * (medians, ratios to the per-tensor row), and the WASM heap of the chosen rows'
 * `--edge` bundles in workerd (load + requests, bench/workerd).
 */
export async function quantTable(o: QuantTableOptions): Promise<QuantTable> {
  const t0 = performance.now();
  const setup = await quantSetup(o);
  const { cfg, rows } = setup;
  const acc: PlanAccuracy[] = [];
  const edges: PreparedModel[] = [];
  for (const row of rows) {
    const a = await evaluatePlan(cfg, row.weights, row.linear, setup.heldout, setup.reference);
    acc.push(a);
    o.log(
      `${row.label}: worst token ${f5(a.tokenCosineMin)}, mean ${f5(a.tokenCosineMean)}, ${setup.reference.embedName} ${f5(a.embedsCosineMin)}`,
    );
    edges.push(
      ensureEdgeBundle(o.cacheDir, {
        model: setup.model,
        variant: `${row.id}-edge`,
        key: `${EDGE_CACHE_VERSION}:${row.id}`,
        cfg,
        weights: row.weights,
        linear: row.linear,
      }),
    );
  }
  o.log(`--edge bundles ready in ${o.cacheDir}; timing them interleaved`);
  const args: EdgeLatencyArgs = {
    prepared: edges,
    rounds: o.rounds,
    maxPositions: cfg.maxPositions,
    pooledTokens: 8,
  };
  const latency = await runChild<Latency>(CHILD, args, { timeoutMs: 30 * 60_000 });
  const lat = (variant: string, c: Latency["case"]) =>
    latency.find((l) => l.variant === variant && l.case === c)!;
  const base = { full: lat(edges[0].variant, "full"), pooled: lat(edges[0].variant, "pooled") };
  const heap = new Map<string, { peak: number; fullMs: number }>();
  for (const [i, row] of rows.entries()) {
    const wanted = o.workerd.includes(row.id) || (row.plan && o.workerd.includes("guarded"));
    if (!wanted) continue;
    o.log(`workerd: loading ${row.label} (--edge)`);
    const records = await measureWorkerdText(edges[i], {
      warmup: 1,
      runs: 3,
      tokens: [8],
      batches: [],
      batchTokens: 25,
      maxPositions: cfg.maxPositions,
    });
    const full = records.find((r) => r.scenario === "text-full")!;
    heap.set(row.id, { peak: Number(full.peak_wasm_mb), fullMs: full.median_ms });
  }
  const records: BenchResult[] = rows.map((row, i) => {
    const full = lat(edges[i].variant, "full");
    const pooled = lat(edges[i].variant, "pooled");
    const h = heap.get(row.id);
    return {
      scenario: "quant-accuracy",
      model: setup.model,
      variant: row.label,
      runtime: "wasm-node",
      median_ms: full.median_ms,
      p95_ms: full.p95_ms,
      runs: full.runs,
      worst_token_cos: round(acc[i].tokenCosineMin, 6),
      mean_token_cos: round(acc[i].tokenCosineMean, 6),
      [`worst_${setup.reference.embedName}_cos`]: round(acc[i].embedsCosineMin, 6),
      edge_bundle_mb: toMb(edgeBundleBytes(edges[i])),
      fp32_linears: row.fp32Linears,
      full_vs_per_tensor: round(full.median_ms / base.full.median_ms),
      pooled8_ms: pooled.median_ms,
      pooled8_vs_per_tensor: round(pooled.median_ms / base.pooled.median_ms),
      ...(h ? { workerd_peak_wasm_mb: h.peak, workerd_full_ms: h.fullMs } : {}),
    };
  });
  const markdown = tableMarkdown(o, setup, records, (performance.now() - t0) / 1000);
  return { records, markdown, setup };
}

function tableMarkdown(
  o: QuantTableOptions,
  setup: QuantSetup,
  records: BenchResult[],
  seconds: number,
): string {
  const embed = setup.reference.embedName;
  const n = Object.keys(setup.guard.plan).length;
  const lines = [
    `| int8 mode | worst-token cosine | mean token cosine | worst ${embed} cosine | --edge bundle MB | Linears in fp32 | full 77 ms (vs per-tensor) | pooled 8 ms (vs per-tensor) | workerd peak WASM MB |`,
    "|---|---|---|---|---|---|---|---|---|",
    ...records.map(
      (r) =>
        `| ${r.variant} | ${f5(Number(r.worst_token_cos))} | ${f5(Number(r.mean_token_cos))} | ${f5(Number(r[`worst_${embed}_cos`]))} | ${r.edge_bundle_mb} | ${r.fp32_linears} of ${n} | ${r.median_ms.toFixed(0)} (${Number(r.full_vs_per_tensor).toFixed(2)}x) | ${Number(r.pooled8_ms).toFixed(1)} (${Number(r.pooled8_vs_per_tensor).toFixed(2)}x) | ${r.workerd_peak_wasm_mb ?? "-"} |`,
    ),
  ];
  const g = setup.guard;
  const count = (kind: string) => Object.values(g.plan).filter((p) => p === kind).length;
  const named = (kind: string) =>
    Object.entries(g.plan)
      .filter(([, p]) => p === kind)
      .map(([name]) => name)
      .join(", ") || "none";
  const split = Object.entries(g.splitChannels ?? {})
    .map(([name, c]) => `${name} (${c.length})`)
    .join(", ");
  const budget = g.fp32Budget
    ? `, fp32 cap ${(g.fp32Budget.maxBytes / 1e6).toFixed(1)} MB (used ${(g.fp32Budget.usedBytes / 1e6).toFixed(1)} MB)`
    : "";
  const notes = [
    "",
    `Checkpoint: outlier proxy (node/synthetic/outlier-checkpoint.ts) at ${o.dims === "tiny" ? "tiny" : "CLIP ViT-L/14 text"} dims (width ${setup.cfg.hiddenSize}, ${setup.cfg.numLayers} layers). Accuracy: ${setup.heldout.ids.length} held-out PartiPrompts (not the calibration set) at ${setup.heldout.seq} positions, every position counted, one-graph int8 vs fp32 of the same weights (onnxruntime-node). Size: every file of the text tower as \`prepare --quant int8 --edge\` writes it (stages + .data + token table). Latency: the four --edge bundles loaded side by side in one onnxruntime-web process (WASM, 1 thread), runs interleaved, medians of ${o.rounds}; full = 77 tokens, last_hidden_state; pooled = 8 tokens (EOT-truncated), text_embeds. workerd: the --edge bundle loaded stage by stage in wrangler's local workerd, then 77-token requests; peak of onnxruntime-web's WASM memory.`,
    `Guard (${setup.calibrationPrompts} built-in calibration prompts${budget}, ${g.evaluations} end-to-end runs, ${setup.guardSeconds.toFixed(0)} s${setup.guardCached ? ", plan read from the bench cache" : ""}): on calibration worst token ${f5(g.achieved.tokenCosineMin)}, ${g.achieved.embeds} ${f5(g.achieved.embedsCosineMin)}, targets ${g.targets.tokenCosineMin} / ${g.targets.embedsCosineMin} ${g.met ? "met" : "NOT met"}; ${count("int8-smooth")} Linears smoothed, ${count("int8-residual")} int8-residual (${named("int8-residual")}), split: ${split || "none"}; fp32: ${named("fp32")}.`,
    `Total ${seconds.toFixed(0)} s.`,
  ];
  return `${lines.join("\n")}\n${notes.join("\n")}\n`;
}
