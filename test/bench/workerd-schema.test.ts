import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchResult } from "../../bench/harness.ts";

/**
 * Runs `bench/main.ts --quick --json` with the workerd runtime only: the
 * cache-hit and request-breakdown scenarios (the real worker app on a tiny
 * synthetic bundle) and the text encoder on a tiny token-table-outside +
 * external-data variant. Checks the JSON lines' schema; timings are not asserted.
 */
describe("bench cache-hit, request-breakdown and workerd text-encoder --json", () => {
  let cache: string;
  let records: BenchResult[];

  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), "clip-edge-bench-workerd-test-"));
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "bench/main.ts",
        "--quick",
        "--json",
        "--only",
        "cache-hit,text-encoder,request-breakdown",
      ],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          CLIP_EDGE_BENCH_MODELS: "clip-tiny-text",
          CLIP_EDGE_BENCH_VARIANTS: "int8-embeds-ext",
          CLIP_EDGE_BENCH_RUNTIMES: "workerd",
          CLIP_EDGE_BENCH_CACHE: cache,
        },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    records = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as BenchResult);
  }, 240_000);

  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("reports miss, hit and 304 per route with the contract keys", () => {
    const rows = records.filter((r) => r.scenario === "cache-hit");
    expect(rows.map((r) => `${r.route} ${r.cache}`).sort()).toEqual(
      [
        "/v1/conditioning miss",
        "/v1/conditioning hit",
        "/v1/conditioning not-modified-304",
        "/v1/embeddings miss",
        "/v1/embeddings hit",
        "/v1/embeddings not-modified-304",
      ].sort(),
    );
    for (const r of rows) {
      expect(r).toMatchObject({ runtime: "workerd", variant: "fp32" });
      expect(typeof r.model).toBe("string");
      expect(r.median_ms).toBeGreaterThan(0);
      expect(r.p95_ms).toBeGreaterThanOrEqual(r.median_ms);
      expect(r.runs).toBe(3);
      expect(r.rtt_ms).toBeGreaterThan(0);
      if (r.cache === "miss") {
        expect(r.first_request_ms).toBeGreaterThan(0);
        expect(r.response_bytes).toBeGreaterThan(0);
      } else {
        expect(r.miss_median_ms).toBeGreaterThan(0);
        expect(r.ratio_vs_miss).toBeCloseTo(r.median_ms / Number(r.miss_median_ms), 2);
      }
    }
  });

  it("loads an external-data graph with the token table in R2 and gathers rows per request", () => {
    const rows = records.filter(
      (r) => r.scenario !== "cache-hit" && r.scenario !== "request-breakdown",
    );
    const cold = rows.find((r) => r.scenario === "cold-start");
    expect(cold).toMatchObject({ model: "clip-tiny-text", variant: "int8-embeds-ext" });
    expect(cold?.peak_wasm_mb).toBeGreaterThan(0);
    const pooled = rows.find((r) => r.scenario === "text-pooled");
    expect(pooled?.runtime).toBe("workerd");
    expect(pooled?.gather_reads).toBeGreaterThan(0);
    expect(pooled?.gather_ms).toBeGreaterThanOrEqual(0);
  });

  it("breaks one request down, beside a baseline of the previous defaults measured in the same run", () => {
    const rows = records.filter((r) => r.scenario === "request-breakdown");
    const baseline = rows.filter((r) => r.config === "baseline");
    const current = rows.filter((r) => r.config === "current");
    expect(rows.length).toBe(baseline.length + current.length);
    const keys = (list: BenchResult[]) => list.map((r) => `${r.route} ${r.tokens}`).sort();
    expect(keys(current)).toEqual(["/v1/embeddings 77", "/v1/embeddings 8"]);
    expect(keys(baseline)).toEqual(keys(current));
    for (const r of rows) {
      expect(r).toMatchObject({ runtime: "workerd", variant: "fp32", stages: 1, runs: 2 });
      expect(r.median_ms).toBeGreaterThan(0);
      expect(r.rtt_ms).toBeGreaterThan(0);
      expect(r.first_request_ms).toBeGreaterThan(0);
      expect(r.peak_wasm_mb).toBeGreaterThan(0);
    }
    for (const r of baseline) expect(r.outside_runs_ms).toBeUndefined();
    for (const r of current) {
      expect(r.row_reads).toBeGreaterThanOrEqual(0);
      const b = baseline.find((x) => x.route === r.route && x.tokens === r.tokens)!;
      expect(r.baseline_ms).toBe(b.median_ms);
      expect(r.ratio_vs_baseline).toBeCloseTo(r.median_ms / b.median_ms, 2);
      for (const k of ["outside_runs_ms", "first_stage_ms", "all_runs_ms", "extra_copy_ms"]) {
        expect(typeof r[k], k).toBe("number");
      }
      // One graph: its one stage is all the runs.
      expect(r.all_runs_ms).toBe(r.first_stage_ms);
    }
  });
});
