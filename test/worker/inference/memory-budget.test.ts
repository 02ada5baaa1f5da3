import { describe, expect, it } from "vitest";
import type { GraphMemoryCost } from "../../../conditioning/memory/memory-model.ts";
import { createMemoryBudget, GROWTH_STEP } from "../../../worker/inference/memory-budget.ts";

const cost = (loadBytes: number, tokenBytes = 1000): GraphMemoryCost => ({
  runtimeBytes: 20e6,
  loadBytes,
  tokenBytes,
  source: "measured",
});

describe("memory budget", () => {
  it("plans within budget / 1.05 and counts the runtime once", () => {
    const budget = createMemoryBudget({ budgetBytes: () => 105e6 });
    expect(budget.committedBytes()).toBe(0);
    expect(budget.wouldFit(cost(70e6), 10e6)).toBe(true); // 20 + 70 + 10 = 100 <= 100
    expect(budget.wouldFit(cost(70e6), 10e6 + 1)).toBe(false);
    budget.addGraph("a", cost(40e6));
    expect(budget.committedBytes()).toBe(60e6);
    expect(budget.freeBytes()).toBe(105e6 / GROWTH_STEP - 60e6);
    expect(budget.wouldFit(cost(30e6), 10e6)).toBe(true);
    expect(budget.wouldFit(cost(30e6), 10e6 + 1)).toBe(false);
    // Alone, it ignores what is loaded.
    expect(budget.wouldFit(cost(70e6), 10e6, true)).toBe(true);
  });

  it("reserves runs only while they fit, and releases them", () => {
    const budget = createMemoryBudget({ budgetBytes: () => 105e6 });
    budget.addGraph("a", cost(40e6));
    expect(budget.reserve(30e6)).toBe(true);
    expect(budget.reserve(10e6 + 1)).toBe(false);
    expect(budget.reserve(10e6)).toBe(true);
    expect(budget.freeBytes()).toBe(0);
    expect(budget.wouldFit(cost(1), 0)).toBe(false);
    budget.release(30e6);
    expect(budget.runningBytes()).toBe(10e6);
    const report = budget.report();
    expect(report).toMatchObject({
      budget_bytes: 105e6,
      plan_bytes: 100e6,
      estimated_bytes: 70e6,
      runtime_bytes: 20e6,
      running_bytes: 10e6,
      graphs: [{ graph: "a", load_bytes: 40e6, token_bytes: 1000, source: "measured" }],
    });
    budget.removeGraph("a");
    expect(budget.committedBytes()).toBe(0);
  });
});
