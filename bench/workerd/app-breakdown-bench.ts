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
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seedLocalR2 } from "../../node/local-dev/seed-local-r2.ts";
import { type BenchResult, summarize } from "../harness.ts";
import { round, toMb } from "../scenarios/stats.ts";
import { type BenchWorker, startBenchWorker } from "./start-bench-worker.ts";

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
  /** Worker vars over the repo's wrangler.toml (e.g. the previous defaults, for a baseline). */
  vars?: Record<string, string>;
  /** Whole requests only (no partial-stage or extra-copy variants): a baseline's latency. */
  requestOnly?: boolean;
  log: (line: string) => void;
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
  const persist = mkdtempSync(join(tmpdir(), "clip-edge-bench-breakdown-"));
  let worker: BenchWorker | undefined;
  try {
    await seedLocalR2({
      bundleDir: options.bundleDir,
      name: options.name,
      persistTo: persist,
      configPath: CONFIG,
      log: () => {},
    });
    worker = await startBenchWorker({
      config: CONFIG,
      entrypoint: ENTRY,
      persist,
      vars: { DEFAULT_MODEL: options.name, ...options.vars },
    });
    const w = worker;
    const request = async (
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<Sample & { text: string }> => {
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
    let seed = 0x14;
    const word = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const a = (seed >>> 8) % 26;
      const b = (seed >>> 16) % 26;
      return String.fromCharCode(97 + a, 97 + b);
    };
    const promptOf = (tokens: number) => Array.from({ length: tokens - 2 }, word).join(" ");
    const noop: number[] = [];
    for (let i = 0; i < 20; i++) noop.push((await request("/healthz")).ms);
    const rtt = summarize(noop).median_ms;
    const records: BenchResult[] = [];
    for (const route of options.routes) {
      const full = async (tokens: number, headers: Record<string, string> = {}) => {
        const s = await request(route.path, route.body(options.name, promptOf(tokens)), headers);
        if (s.status !== 200)
          throw new Error(`${route.path}: HTTP ${s.status} ${s.text.slice(0, 300)}`);
        return s;
      };
      // Load (first request) and tier-up; S = runs of a whole request.
      const first = await full(77);
      for (let i = 0; i < 3; i++) await full(77);
      const stages = first.runs;
      const stops = options.requestOnly
        ? []
        : [...new Set([0, 1, 2, stages - 1])].filter((k) => k < stages);
      for (const tokens of route.tokens) {
        const check = await request("/v1/tokenize", {
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
          const c = options.requestOnly
            ? undefined
            : await full(tokens, { "x-bench-extra-copy": "1" });
          for (const k of stops) {
            const s = await full(tokens, { "x-bench-run-stages": String(k) });
            if (s.runs !== stages || s.replayed !== stages - k) {
              throw new Error(`run ${k} stages: ${s.runs} runs, ${s.replayed} replayed`);
            }
            if (r >= 0) push(`t${k}`, s.ms);
          }
          if (r < 0) continue;
          push(`t${stages}`, f.ms);
          if (c) push("copy", c.ms);
          rowMs.push(f.rowReadMs);
          rowReads = f.rowReads;
        }
        const m = (key: string) => summarize(at[key]).median_ms;
        const full_ = m(`t${stages}`);
        const whole: BenchResult = {
          scenario: "request-breakdown",
          model: options.model,
          variant: options.variant,
          runtime: "workerd",
          route: route.path,
          tokens,
          stages,
          median_ms: round(full_ - rtt),
          p95_ms: round(summarize(at[`t${stages}`]).p95_ms - rtt),
          runs: options.runs,
          rtt_ms: round(rtt),
          row_read_ms: round(summarize(rowMs).median_ms),
          row_reads: rowReads,
          first_request_ms: round(first.ms - rtt),
        };
        if (options.requestOnly) {
          records.push(whole);
          options.log(`request-breakdown ${options.model} ${route.path} ${tokens} tokens done`);
          continue;
        }
        const t0 = m("t0");
        records.push({
          ...whole,
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
        });
        options.log(`request-breakdown ${options.model} ${route.path} ${tokens} tokens done`);
      }
    }
    const ready = JSON.parse((await request("/readyz")).text) as { wasm_heap?: { bytes: number } };
    const heap = ready.wasm_heap ? { peak_wasm_mb: toMb(ready.wasm_heap.bytes) } : {};
    return records.map((r) => ({ ...r, ...heap }));
  } finally {
    await worker?.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}
