/**
 * Issue #14 part 1: where one uncached request's time goes in workerd, through
 * the real worker app (bench/workerd/breakdown-worker.ts wraps only its runtime
 * and bucket). workerd's clocks stand still during CPU work, so everything but
 * the token-row I/O is measured from outside, by whole requests (200) that
 * run only the first k stages for real (breakdown-worker.ts replays the other
 * stages' last outputs):
 *   t0 = no stage run: parse, tokenize, token-row reads, feeds, conditioning
 *        math, serialisation, cache write (the part outside onnxruntime);
 *   t1, t2, t(S-1) = the first 1, 2, S-1 stages run (S = the stages);
 *   full = tS, every stage run: the real request;
 *   copy = the real request with every stage's outputs copied once more in JS.
 * Parts are differences of medians (each variant gets a fresh prompt per
 * sample, so every request is a response-cache miss; variants round-robin).
 * Prompts are random two-letter words of the synthetic vocabulary, one token
 * each, so `tokens` (BOS and EOT included) is exact; /v1/tokenize checks it
 * (its `token_count` leaves BOS and EOT out).
 */
import { fileURLToPath } from "node:url";
import { type BenchResult, summarize } from "../harness.ts";
import { round, toMb } from "../scenarios/stats.ts";
import { startAppWorker } from "./start-bench-worker.ts";

const CONFIG = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
const ENTRY = fileURLToPath(new URL("./breakdown-worker.ts", import.meta.url));

export interface BreakdownRoute {
  path: "/v1/embeddings" | "/v1/conditioning";
  body: (model: string, prompt: string) => Record<string, unknown>;
  tokens: number[];
}

export interface BreakdownOptions {
  bundleDir: string;
  name: string;
  model: string;
  variant: string;
  runs: number;
  routes: BreakdownRoute[];
  /**
   * Vars of a second isolate serving the same bundle (e.g. the previous defaults): its whole
   * requests are timed in the same rounds, alternating with the first isolate's, so that load
   * on a shared machine hits both alike. Its rows say `config: "baseline"`.
   */
  baselineVars?: Record<string, string>;
  log: (line: string) => void;
}

interface AppWorker {
  request(
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Sample & { text: string }>;
  /** Median round trip of a no-op request. */
  rtt: number;
  dispose(): Promise<void>;
}

/** One workerd isolate of the bench entry serving the bundle from its own local R2. */
async function openAppWorker(
  options: BreakdownOptions,
  vars: Record<string, string>,
): Promise<AppWorker> {
  const app = await startAppWorker({
    config: CONFIG,
    entrypoint: ENTRY,
    bundleDir: options.bundleDir,
    name: options.name,
    vars,
  });
  const w = app.worker;
  const request: AppWorker["request"] = async (path, body, headers = {}) => {
    const t = performance.now();
    const res = await w.fetch(`http://bench${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const ms = performance.now() - t;
    return {
      ms,
      status: res.status,
      runs: Number(res.headers.get("x-bench-runs")),
      replayed: Number(res.headers.get("x-bench-replayed")),
      rowReadMs: Number(res.headers.get("x-bench-row-read-ms")),
      rowReads: Number(res.headers.get("x-bench-row-reads")),
      text,
    };
  };
  const noop: number[] = [];
  for (let i = 0; i < 20; i++) noop.push((await request("/healthz")).ms);
  return {
    request,
    rtt: summarize(noop).median_ms,
    dispose: app.dispose,
  };
}

interface Sample {
  ms: number;
  status: number;
  runs: number;
  replayed: number;
  rowReadMs: number;
  rowReads: number;
}

export async function measureAppBreakdown(options: BreakdownOptions): Promise<BenchResult[]> {
  const workers: AppWorker[] = [];
  try {
    const main = await openAppWorker(options, {});
    workers.push(main);
    const base = options.baselineVars
      ? await openAppWorker(options, options.baselineVars)
      : undefined;
    if (base) workers.push(base);
    let seed = 0x14;
    const word = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const a = (seed >>> 8) % 26;
      const b = (seed >>> 16) % 26;
      return String.fromCharCode(97 + a, 97 + b);
    };
    const promptOf = (tokens: number) => Array.from({ length: tokens - 2 }, word).join(" ");
    const rtt = main.rtt;
    const records: BenchResult[] = [];
    for (const route of options.routes) {
      const fullOn = async (w: AppWorker, tokens: number, headers: Record<string, string> = {}) => {
        const s = await w.request(route.path, route.body(options.name, promptOf(tokens)), headers);
        if (s.status !== 200)
          throw new Error(`${route.path}: HTTP ${s.status} ${s.text.slice(0, 300)}`);
        return s;
      };
      const full = (tokens: number, headers: Record<string, string> = {}) =>
        fullOn(main, tokens, headers);
      // Load (first request) and tier-up; S = runs of a whole request.
      const first = await full(77);
      for (let i = 0; i < 3; i++) await full(77);
      const baseFirst = base ? await fullOn(base, 77) : undefined;
      if (base) for (let i = 0; i < 3; i++) await fullOn(base, 77);
      const stages = first.runs;
      const stops = [...new Set([0, 1, 2, stages - 1])].filter((k) => k < stages);
      for (const tokens of route.tokens) {
        const check = await main.request("/v1/tokenize", {
          model: options.name,
          prompt: promptOf(tokens),
        });
        const counted = (JSON.parse(check.text) as { token_count?: number }).token_count;
        if (counted !== tokens - 2) {
          throw new Error(
            `prompt of ${tokens} tokens tokenized to ${counted}: ${check.text.slice(0, 200)}`,
          );
        }
        const at: Record<string, number[]> = {};
        const rowMs: number[] = [];
        let rowReads = 0;
        const push = (key: string, ms: number) => {
          at[key] = [...(at[key] ?? []), ms];
        };
        for (let r = -1; r < options.runs; r++) {
          // The real request first: it leaves the outputs the partial ones replay.
          const f = await full(tokens);
          const b = base ? await fullOn(base, tokens) : undefined;
          const c = await full(tokens, { "x-bench-extra-copy": "1" });
          for (const k of stops) {
            const s = await full(tokens, { "x-bench-run-stages": String(k) });
            if (s.runs !== stages || s.replayed !== stages - k) {
              throw new Error(`run ${k} stages: ${s.runs} runs, ${s.replayed} replayed`);
            }
            if (r >= 0) push(`t${k}`, s.ms);
          }
          if (r < 0) continue;
          push(`t${stages}`, f.ms);
          if (b) push("base", b.ms);
          push("copy", c.ms);
          rowMs.push(f.rowReadMs);
          rowReads = f.rowReads;
        }
        const m = (key: string) => summarize(at[key]).median_ms;
        const t0 = m("t0");
        const full_ = m(`t${stages}`);
        const common = {
          scenario: "request-breakdown",
          model: options.model,
          variant: options.variant,
          runtime: "workerd",
          route: route.path,
          tokens,
          stages,
          runs: options.runs,
        };
        const baseline =
          base && baseFirst
            ? {
                ...common,
                config: "baseline",
                median_ms: round(m("base") - base.rtt),
                p95_ms: round(summarize(at.base).p95_ms - base.rtt),
                rtt_ms: round(base.rtt),
                first_request_ms: round(baseFirst.ms - base.rtt),
              }
            : undefined;
        const median = round(full_ - rtt);
        records.push({
          ...common,
          ...(base ? { config: "current" } : {}),
          median_ms: median,
          p95_ms: round(summarize(at[`t${stages}`]).p95_ms - rtt),
          rtt_ms: round(rtt),
          row_read_ms: round(summarize(rowMs).median_ms),
          row_reads: rowReads,
          first_request_ms: round(first.ms - rtt),
          outside_runs_ms: round(t0 - rtt),
          first_stage_ms: round(m("t1") - t0),
          // A staged graph (--edge): the second stage, the middle ones (each), the last one.
          ...(stages >= 4
            ? {
                stage_ms: round(m("t2") - m("t1")),
                middle_stage_ms: round((m(`t${stages - 1}`) - m("t2")) / (stages - 3)),
                last_stage_ms: round(full_ - m(`t${stages - 1}`)),
              }
            : {}),
          all_runs_ms: round(full_ - t0),
          extra_copy_ms: round(m("copy") - full_),
          ...(baseline
            ? {
                baseline_ms: baseline.median_ms,
                ratio_vs_baseline: round(median / baseline.median_ms, 3),
              }
            : {}),
        });
        if (baseline) records.push(baseline);
        options.log(`request-breakdown ${options.model} ${route.path} ${tokens} tokens done`);
      }
    }
    const heapOf = async (w: AppWorker) => {
      const ready = JSON.parse((await w.request("/readyz")).text) as {
        wasm_heap?: { bytes: number };
      };
      return ready.wasm_heap ? { peak_wasm_mb: toMb(ready.wasm_heap.bytes) } : {};
    };
    const heap = await heapOf(main);
    const baseHeap = base ? await heapOf(base) : {};
    return records.map((r) => ({ ...r, ...(r.config === "baseline" ? baseHeap : heap) }));
  } finally {
    for (const w of workers) await w.dispose();
  }
}
