import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchResult } from "../../bench/harness.ts";
import { resultsMarkdown } from "../../bench/scenarios/results-markdown.ts";

/**
 * Runs `bench/main.ts --quick --json --only text-encoder` on a tiny synthetic
 * model (onnxruntime-node and -web in Node) and checks the JSON lines' schema.
 * Timings are not asserted.
 */
describe("bench text-encoder --json", () => {
  let cache: string;
  let records: BenchResult[];
  let stdoutLines: string[];

  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), "clip-edge-bench-test-"));
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "bench/main.ts", "--quick", "--json", "--only", "text-encoder"],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          CLIP_EDGE_BENCH_MODELS: "clip-tiny-text",
          CLIP_EDGE_BENCH_VARIANTS: "int8,q4",
          CLIP_EDGE_BENCH_EXPERIMENTS: "q4-embeds-ext",
          CLIP_EDGE_BENCH_RUNTIMES: "native,wasm-node",
          CLIP_EDGE_BENCH_CACHE: cache,
        },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    stdoutLines = run.stdout.split("\n").filter(Boolean);
    records = stdoutLines.map((l) => JSON.parse(l) as BenchResult);
  }, 120_000);

  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("prints only JSON objects, one per line, with the common keys", () => {
    expect(stdoutLines.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(typeof r.scenario).toBe("string");
      expect(r.model).toBe("clip-tiny-text");
      expect(["int8", "q4", "q4-embeds-ext"]).toContain(r.variant);
      expect(["native", "wasm-node"]).toContain(r.runtime);
      expect(r.median_ms).toBeGreaterThan(0);
      expect(r.p95_ms).toBeGreaterThanOrEqual(r.median_ms);
      for (const value of Object.values(r)) expect(value).not.toBeNull();
    }
  });

  it("covers every scenario for each variant and runtime", () => {
    const expected = ["cold-start", "text-pooled", "text-pooled-padded", "text-full", "text-batch"];
    for (const [variant, runtime] of [
      ["int8", "native"],
      ["int8", "wasm-node"],
      ["q4", "native"],
      ["q4", "wasm-node"],
      ["q4-embeds-ext", "wasm-node"],
    ]) {
      const got = new Set(
        records
          .filter((r) => r.variant === variant && r.runtime === runtime)
          .map((r) => r.scenario),
      );
      expect([...got].sort(), `${variant} ${runtime}`).toEqual([...expected].sort());
    }
    const pooled = records.filter((r) => r.scenario === "text-pooled" && r.runtime === "native");
    expect(pooled.map((r) => r.tokens)).toEqual([8, 25, 8, 25]);
    const batch = records.filter((r) => r.scenario === "text-batch");
    for (const r of batch) {
      expect(r.unit).toBe("prompts/s");
      expect(r.throughput).toBeCloseTo(((r.batch as number) * 1000) / r.median_ms, 0);
    }
  });

  it("reports WASM memory and the ratio vs native where they apply", () => {
    for (const r of records.filter((x) => x.runtime === "wasm-node")) {
      expect(r.peak_wasm_mb).toBeGreaterThan(1);
      expect(r.peak_js_mb).toBeGreaterThanOrEqual(0);
      if (r.scenario !== "cold-start" && r.variant !== "q4-embeds-ext") {
        expect(r.ratio_vs_native).toBeGreaterThan(0);
      }
    }
    for (const r of records.filter((x) => x.runtime === "native")) {
      expect(r.peak_wasm_mb).toBeUndefined();
      expect(r.ratio_vs_native).toBeUndefined();
      expect(r.peak_rss_delta_mb).toBeDefined();
    }
    const cold = records.find((r) => r.scenario === "cold-start" && r.variant === "int8");
    expect(cold?.token_cosine_min).toBeGreaterThan(0.9);
    expect(cold?.token_cosine_min).toBeLessThanOrEqual(1);
  });

  it("formats RESULTS.md with the targets and a table per scenario", () => {
    const md = resultsMarkdown(records, {
      cpu: "test cpu",
      cores: 2,
      node: "v20",
      ortWeb: "1",
      ortNode: "1",
      loadAverage: "0",
      date: "now",
      command: "npm run bench:results",
    });
    expect(md).toContain("## Targets");
    for (const s of new Set(records.map((r) => r.scenario))) expect(md).toContain(`## ${s}`);
  });
});
