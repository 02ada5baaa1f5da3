/**
 * The isolate's WASM heap budget (MEMORY_BUDGET_MB): what the loaded graphs hold
 * and what the runs in progress need, estimated from each graph's memory cost
 * (conditioning/memory/memory-model.ts). Model loads and micro-batches ask it
 * before they use the heap; the heap itself is capped at the budget
 * (conditioning/memory/heap-growth.ts), so an estimate that falls short ends in
 * a failed allocation, never in a heap over the budget.
 *
 * Plans stay within budget / 1.05: emscripten grows the heap by at least 5 % of
 * its size, so a need at most that far under the cap can still be grown to.
 */
import type { GraphMemoryCost } from "../../conditioning/memory/memory-model.ts";

/** Smallest growth step of the heap (tight policy): plans leave this much headroom. */
export const GROWTH_STEP = 1.05;

export interface MemoryBudgetOptions {
  /** The budget in bytes (MEMORY_BUDGET_MB x 1,000,000). */
  budgetBytes: () => number;
}

export interface GraphUse {
  key: string;
  cost: GraphMemoryCost;
}

export interface MemoryBudgetReport {
  budget_bytes: number;
  /** What plans may use: budget / 1.05 (the heap's growth step). */
  plan_bytes: number;
  /** Runtime + loaded graphs + runs in progress, as estimated. */
  estimated_bytes: number;
  runtime_bytes: number;
  /** Bytes reserved by runs in progress. */
  running_bytes: number;
  graphs: { graph: string; load_bytes: number; token_bytes: number; source: string }[];
}

export interface MemoryBudget {
  budgetBytes(): number;
  /** Runtime + loaded graphs (bytes). */
  committedBytes(): number;
  /** Bytes a new run may still reserve now. */
  freeBytes(): number;
  /** Bytes a graph needs to load and run `minRunBytes`, counting the runtime if nothing is loaded. */
  wouldFit(cost: GraphMemoryCost, minRunBytes: number, alone?: boolean): boolean;
  addGraph(key: string, cost: GraphMemoryCost): void;
  removeGraph(key: string): void;
  /** Reserves `bytes` for a run; false when they do not fit now. */
  reserve(bytes: number): boolean;
  release(bytes: number): void;
  /** Bytes reserved by runs in progress. */
  runningBytes(): number;
  report(): MemoryBudgetReport;
}

export function createMemoryBudget(options: MemoryBudgetOptions): MemoryBudget {
  const graphs = new Map<string, GraphMemoryCost>();
  let running = 0;
  const planBytes = () => Math.floor(options.budgetBytes() / GROWTH_STEP);
  const runtimeBytes = (extra?: GraphMemoryCost) =>
    Math.max(0, ...[...graphs.values()].map((c) => c.runtimeBytes), extra?.runtimeBytes ?? 0);
  const loaded = () => [...graphs.values()].reduce((sum, c) => sum + c.loadBytes, 0);
  const committedBytes = () => (graphs.size > 0 ? runtimeBytes() + loaded() : 0);

  return {
    budgetBytes: options.budgetBytes,
    committedBytes,
    freeBytes: () => Math.max(0, planBytes() - committedBytes() - running),
    wouldFit(cost, minRunBytes, alone = false) {
      const base = alone ? cost.runtimeBytes : runtimeBytes(cost) + loaded() + running;
      return base + cost.loadBytes + minRunBytes <= planBytes();
    },
    addGraph(key, cost) {
      graphs.set(key, cost);
    },
    removeGraph(key) {
      graphs.delete(key);
    },
    reserve(bytes) {
      if (committedBytes() + running + bytes > planBytes()) return false;
      running += bytes;
      return true;
    },
    release(bytes) {
      running = Math.max(0, running - bytes);
    },
    runningBytes: () => running,
    report: () => ({
      budget_bytes: options.budgetBytes(),
      plan_bytes: planBytes(),
      estimated_bytes: committedBytes() + running,
      runtime_bytes: graphs.size > 0 ? runtimeBytes() : 0,
      running_bytes: running,
      graphs: [...graphs.entries()].map(([graph, c]) => ({
        graph,
        load_bytes: c.loadBytes,
        token_bytes: c.tokenBytes,
        source: c.source,
      })),
    }),
  };
}
