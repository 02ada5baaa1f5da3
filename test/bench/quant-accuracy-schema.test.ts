import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchResult } from "../../bench/harness.ts";

/**
 * Runs `bench/main.ts --quick --json --only quant-accuracy` (the outlier proxy at tiny
 * dims, the guarded row's --edge bundle also loaded in workerd) and checks that one run
 * gives every column of issue #11's table. Timings are not asserted.
 */
describe("bench quant-accuracy --json", () => {
  let cache: string;
  let records: BenchResult[];

  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), "clip-edge-bench-quant-test-"));
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "bench/main.ts", "--quick", "--json", "--only", "quant-accuracy"],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          CLIP_EDGE_BENCH_CACHE: cache,
          CLIP_EDGE_BENCH_QUANT_WORKERD: "guarded",
          WRANGLER_SEND_METRICS: "false",
        },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    records = run.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as BenchResult);
  }, 300_000);

  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("has the four rows with accuracy, size, fp32 Linears, latency and ratios", () => {
    expect(records.map((r) => r.variant)).toEqual([
      "per-tensor int8 (before #11)",
      "per-token int8",
      "per-token int8 + smoothing (all q/k/v, fc1)",
      "guarded plan (prepare --edge defaults)",
    ]);
    for (const r of records) {
      expect(r).toMatchObject({ scenario: "quant-accuracy", runtime: "wasm-node" });
      for (const key of [
        "worst_token_cos",
        "mean_token_cos",
        "worst_text_embeds_cos",
        "edge_bundle_mb",
        "fp32_linears",
        "median_ms",
        "pooled8_ms",
        "full_vs_per_tensor",
        "pooled8_vs_per_tensor",
      ]) {
        expect(typeof r[key], key).toBe("number");
      }
      expect(Number(r.worst_token_cos)).toBeLessThanOrEqual(Number(r.mean_token_cos));
      expect(r.median_ms).toBeGreaterThan(0);
    }
    expect(records[0].full_vs_per_tensor).toBe(1);
    expect(records[0].pooled8_vs_per_tensor).toBe(1);
  });

  it("per-token beats per-tensor, and the guarded plan meets the default targets held-out", () => {
    const [tensor, token, , guarded] = records;
    expect(Number(token.worst_token_cos)).toBeGreaterThan(Number(tensor.worst_token_cos));
    expect(Number(guarded.worst_token_cos)).toBeGreaterThanOrEqual(0.999);
    expect(Number(guarded.worst_text_embeds_cos)).toBeGreaterThanOrEqual(0.9995);
  });

  it("measures the guarded --edge bundle's WASM heap in workerd (only that row)", () => {
    const [, , , guarded] = records;
    expect(Number(guarded.workerd_peak_wasm_mb)).toBeGreaterThan(0);
    expect(records.slice(0, 3).every((r) => r.workerd_peak_wasm_mb === undefined)).toBe(true);
  });
});
