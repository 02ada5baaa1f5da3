import { describe, expect, it } from "vitest";
import type {
  InferenceSessionLike,
  TensorFactory,
  TensorLike,
} from "../../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import type { GraphMemoryCost } from "../../../conditioning/memory/memory-model.ts";
import { createBatchedSession } from "../../../worker/inference/batched-session.ts";
import { createMemoryBudget } from "../../../worker/inference/memory-budget.ts";

const tensor: TensorFactory = (type, data, dims) => ({ type, data, dims });

/**
 * A graph whose outputs depend on each row alone: hidden[r, t, :] = (id * 2, t) and
 * pooled[r] = sum of the row's ids. Records every run's rows; fails to "allocate"
 * runs of more than `allocLimit` rows, as onnxruntime-web does under the heap cap.
 */
function fakeSession(allocLimit = Infinity) {
  const runs: number[] = [];
  const session: InferenceSessionLike = {
    inputNames: ["input_ids"],
    outputNames: ["hidden", "pooled"],
    async run(feeds) {
      const ids = feeds.input_ids;
      const [rows, seq] = ids.dims;
      await new Promise((r) => setTimeout(r, 2));
      if (rows > allocLimit)
        throw new Error("failed to call OrtRun(). ERROR_MESSAGE: std::bad_alloc");
      runs.push(rows);
      const data = ids.data as BigInt64Array;
      const hidden = new Float32Array(rows * seq * 2);
      const pooled = new Float32Array(rows);
      for (let i = 0; i < rows * seq; i++) {
        hidden[2 * i] = Number(data[i]) * 2;
        hidden[2 * i + 1] = i % seq;
        pooled[Math.floor(i / seq)] += Number(data[i]);
      }
      return {
        hidden: tensor("float32", hidden, [rows, seq, 2]),
        pooled: tensor("float32", pooled, [rows]),
      };
    },
  };
  return { session, runs };
}

const idsOf = (rows: number, seq: number, base: number): TensorLike =>
  tensor(
    "int64",
    BigInt64Array.from({ length: rows * seq }, (_, i) => BigInt(base + i)),
    [rows, seq],
  );

const cost = (tokenBytes: number): GraphMemoryCost => ({
  runtimeBytes: 10_000,
  loadBytes: 40_000,
  tokenBytes,
  source: "measured",
});

/** A budget of `budget` bytes with one graph of `cost` loaded. */
function budgetWith(budget: number, c: GraphMemoryCost) {
  const memory = createMemoryBudget({ budgetBytes: () => budget });
  memory.addGraph("m", c);
  return memory;
}

async function solo(feeds: TensorLike) {
  const { session } = fakeSession();
  return session.run({ input_ids: feeds });
}

describe("batched session under a memory budget", () => {
  it("splits a request's rows over runs that fit, and joins them back exactly", async () => {
    const c = cost(100);
    // plan = 105_000 / 1.05 = 100_000; 50_000 loaded: room for 500 tokens = 6 rows of 77.
    const budget = budgetWith(105_000, c);
    const { session, runs } = fakeSession();
    const batched = createBatchedSession({
      session,
      tensor,
      windowMs: 0,
      maxBatch: 32,
      label: "m/text.onnx",
      memory: { budget, tokenBytes: c.tokenBytes, describe: "MEMORY_BUDGET_MB=0.105" },
    });
    const ids = idsOf(16, 77, 1000);
    const out = await batched.run({ input_ids: ids });
    expect(runs).toEqual([6, 6, 4]);
    const ref = await solo(ids);
    expect(out.hidden.dims).toEqual([16, 77, 2]);
    expect(Array.from(out.hidden.data as Float32Array)).toEqual(
      Array.from(ref.hidden.data as Float32Array),
    );
    expect(Array.from(out.pooled.data as Float32Array)).toEqual(
      Array.from(ref.pooled.data as Float32Array),
    );
    expect(budget.runningBytes()).toBe(0);
  });

  it("concurrent requests share runs within the budget, each gets its own rows", async () => {
    const c = cost(100);
    const budget = budgetWith(105_000, c);
    const { session, runs } = fakeSession();
    const batched = createBatchedSession({
      session,
      tensor,
      windowMs: 2,
      maxBatch: 32,
      label: "m",
      memory: { budget, tokenBytes: c.tokenBytes, describe: "x" },
    });
    const inputs = Array.from({ length: 10 }, (_, k) => idsOf(1 + (k % 3), 10 + k * 5, k * 10_000));
    const outs = await Promise.all(inputs.map((ids) => batched.run({ input_ids: ids })));
    for (let k = 0; k < inputs.length; k++) {
      const ref = await solo(inputs[k]);
      expect(outs[k].hidden.dims).toEqual(ref.hidden.dims);
      expect(Array.from(outs[k].hidden.data as Float32Array)).toEqual(
        Array.from(ref.hidden.data as Float32Array),
      );
    }
    // Every run's rows x padded tokens stayed within the 50_000 free bytes.
    expect(Math.max(...runs)).toBeLessThanOrEqual(Math.floor(500 / 10));
    expect(batched.stats.largestBatch).toBeGreaterThan(1);
  });

  it("retries a run that fails to allocate in halves, then answers over_capacity for one row", async () => {
    const { session, runs } = fakeSession(3);
    const c = cost(1);
    const budget = budgetWith(10_000_000, c);
    const batched = createBatchedSession({
      session,
      tensor,
      windowMs: 0,
      maxBatch: 32,
      label: "m",
      memory: { budget, tokenBytes: 1, describe: "x" },
    });
    const ids = idsOf(12, 8, 5);
    const out = await batched.run({ input_ids: ids });
    expect(Array.from(out.pooled.data as Float32Array)).toEqual(
      Array.from((await solo(ids)).pooled.data as Float32Array),
    );
    expect(batched.stats.allocationFailures).toBeGreaterThan(0);
    expect(Math.max(...runs)).toBeLessThanOrEqual(3);

    const never = createBatchedSession({
      session: fakeSession(0).session,
      tensor,
      windowMs: 0,
      maxBatch: 32,
      label: "big/text.onnx",
      memory: { budget, tokenBytes: 1, describe: "MEMORY_BUDGET_MB=10" },
    });
    const error = await never.run({ input_ids: idsOf(2, 8, 5) }).catch((e) => e);
    expect(error).toBeInstanceOf(ClipEdgeError);
    expect(error.code).toBe("over_capacity");
    expect(error.message).toMatch(/big\/text\.onnx.*MEMORY_BUDGET_MB=10/);
    expect(never.busy()).toBe(false);
  });

  it("answers over_capacity when not one row fits and nothing else runs", async () => {
    const c = cost(1000);
    const budget = budgetWith(105_000, c); // 50_000 free: 50 tokens
    const { session, runs } = fakeSession();
    const batched = createBatchedSession({
      session,
      tensor,
      windowMs: 0,
      maxBatch: 32,
      label: "m/text.onnx",
      memory: { budget, tokenBytes: c.tokenBytes, describe: "MEMORY_BUDGET_MB=0.105" },
    });
    const error = await batched.run({ input_ids: idsOf(1, 77, 0) }).catch((e) => e);
    expect(error.code).toBe("over_capacity");
    expect(error.message).toMatch(/one 77-token row needs ~0\.1 MB.*MEMORY_BUDGET_MB=0\.105/);
    expect(runs).toEqual([]);
    // A shorter row fits.
    const ok = await batched.run({ input_ids: idsOf(1, 40, 0) });
    expect(ok.hidden.dims).toEqual([1, 40, 2]);
  });

  it("refuses rows beyond maxQueuedRows with over_capacity, and serves the rest", async () => {
    const { session } = fakeSession();
    const batched = createBatchedSession({
      session,
      tensor,
      windowMs: 20,
      maxBatch: 4,
      label: "m",
      maxQueuedRows: 6,
    });
    // The first 4 rows start a run at once (a full batch); 6 more may wait; 4 are refused.
    const results = await Promise.allSettled(
      Array.from({ length: 14 }, (_, k) => batched.run({ input_ids: idsOf(1, 4, k) })),
    );
    const refused = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(10);
    expect(refused.length).toBe(4);
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason.code).toBe("over_capacity");
      expect((r as PromiseRejectedResult).reason.message).toMatch(/MAX_QUEUED_ROWS=6/);
    }
    expect(batched.stats.refused).toBe(refused.length);
  });

  it("without a budget, batches as before (one run for concurrent rows)", async () => {
    const { session, runs } = fakeSession();
    const batched = createBatchedSession({
      session,
      tensor,
      windowMs: 5,
      maxBatch: 32,
      label: "m",
    });
    await Promise.all(
      Array.from({ length: 5 }, (_, k) => batched.run({ input_ids: idsOf(2, 7, k) })),
    );
    expect(runs).toEqual([10]);
  });
});
