import { describe, expect, it } from "vitest";
import {
  type BenchResult,
  formatTable,
  measure,
  percentile,
  runBench,
  type Scenario,
  summarize,
} from "../../bench/harness.ts";

function io() {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
    },
    out: () => out,
    err: () => err,
  };
}

const fake: Scenario = {
  name: "fake",
  description: "test scenario",
  async run(ctx) {
    let calls = 0;
    const timing = await ctx.measure(() => {
      calls++;
    });
    ctx.report({
      scenario: "fake",
      variant: ctx.quick ? "quick" : "full",
      median_ms: timing.median_ms,
      p95_ms: timing.p95_ms,
      runs: timing.runs,
      calls,
    });
  },
};

describe("bench harness", () => {
  it("computes median and p95 by linear interpolation", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10], 95)).toBe(10);
    const t = summarize([5, 1, 3, 2, 4]);
    expect([t.median_ms, t.min_ms, t.mean_ms, t.runs]).toEqual([3, 1, 3, 5]);
    expect(t.p95_ms).toBeCloseTo(4.8);
  });

  it("warms up, then times the requested number of runs", async () => {
    let calls = 0;
    const t = await measure(
      () => {
        calls++;
      },
      { warmup: 2, runs: 7 },
    );
    expect(calls).toBe(9);
    expect(t.samples).toHaveLength(7);
  });

  it("prints a table with only the columns that apply", () => {
    const rows: BenchResult[] = [
      {
        scenario: "a",
        median_ms: 1.5,
        p95_ms: 2,
        runs: 3,
        throughput: 1000,
        unit: "x/s",
        ratio: 2,
      },
      { scenario: "b", variant: "v", median_ms: 150.2, p95_ms: 200, runs: 3 },
    ];
    const lines = formatTable(rows).trimEnd().split("\n");
    expect(lines[0].split(/\s+/)).toEqual([
      "scenario",
      "variant",
      "median_ms",
      "p95_ms",
      "runs",
      "throughput",
      "unit",
      "extra",
    ]);
    expect(lines[2]).toContain("ratio=2");
    expect(lines).toHaveLength(4);
  });

  it("--json prints one object per result; --quick reaches the scenario", async () => {
    const t = io();
    expect(await runBench([fake], ["--json", "--quick"], t.io)).toBe(0);
    const lines = t.out().trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const row = JSON.parse(lines[0]);
    expect(row).toMatchObject({ scenario: "fake", variant: "quick", runs: 5, calls: 6 });
    expect(Object.keys(row)).not.toContain("model");
  });

  it("rejects unknown arguments and scenarios with exit code 2; a failing scenario exits 1", async () => {
    const t = io();
    expect(await runBench([fake], ["--bogus"], t.io)).toBe(2);
    expect(await runBench([fake], ["--only", "nope"], t.io)).toBe(2);
    const broken: Scenario = {
      name: "broken",
      description: "",
      run: () => Promise.reject(new Error("boom")),
    };
    const u = io();
    expect(await runBench([broken, fake], [], u.io)).toBe(1);
    expect(u.err()).toContain("boom");
    expect(u.out()).toContain("fake");
  });
});
