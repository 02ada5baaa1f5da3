import { describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { createDynamicBatcher } from "../../../node/runtime/dynamic-batcher.ts";

describe("dynamic batcher", () => {
  it("splits a burst into batches of at most maxBatch, in order", async () => {
    const sizes: number[] = [];
    const batcher = createDynamicBatcher<number, number>({
      maxBatch: 32,
      maxWaitMs: 40,
      maxQueue: 100,
      async runBatch(items) {
        sizes.push(items.length);
        return items.map((x) => x * 2);
      },
    });
    const items = Array.from({ length: 70 }, (_, i) => i);
    const out = await batcher.submit(items);
    expect(out).toEqual(items.map((x) => x * 2));
    expect(sizes).toEqual([32, 32, 6]);
    expect(batcher.stats()).toMatchObject({ batches: 3, items: 70, batchSizes: { 32: 2, 6: 1 } });
  });

  it("merges concurrent submissions that arrive within maxWaitMs into one run", async () => {
    const sizes: number[] = [];
    const batcher = createDynamicBatcher<number, number>({
      maxBatch: 16,
      maxWaitMs: 30,
      maxQueue: 100,
      async runBatch(items) {
        sizes.push(items.length);
        return items.map((x) => -x);
      },
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map((x) => batcher.submit([x, x + 10])));
    expect(results).toEqual([1, 2, 3, 4, 5].map((x) => [-x, -x - 10]));
    expect(sizes).toEqual([10]);
  });

  it("queues the next batch while one runs (one run at a time)", async () => {
    let active = 0;
    let maxActive = 0;
    const sizes: number[] = [];
    const batcher = createDynamicBatcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 0,
      maxQueue: 100,
      async runBatch(items) {
        active++;
        maxActive = Math.max(maxActive, active);
        sizes.push(items.length);
        await new Promise((r) => setTimeout(r, 20));
        active--;
        return items;
      },
    });
    const first = batcher.submit([1]);
    await new Promise((r) => setTimeout(r, 5));
    const rest = [2, 3, 4].map((x) => batcher.submit([x]));
    await Promise.all([first, ...rest]);
    expect(maxActive).toBe(1);
    expect(sizes).toEqual([1, 3]);
  });

  it("rejects with overloaded + Retry-After when the queue is full, admitting nothing", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const batcher = createDynamicBatcher<number, number>({
      maxBatch: 2,
      maxWaitMs: 0,
      maxQueue: 3,
      async runBatch(items) {
        await gate;
        return items;
      },
    });
    const running = batcher.submit([1, 2]);
    await new Promise((r) => setTimeout(r, 1));
    const queued = batcher.submit([3, 4, 5]);
    const error = await batcher.submit([6]).catch((e) => e);
    expect(error).toBeInstanceOf(ClipEdgeError);
    expect(error.code).toBe("overloaded");
    expect(error.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(batcher.stats().queued).toBe(3);
    release();
    expect(await running).toEqual([1, 2]);
    expect(await queued).toEqual([3, 4, 5]);
  });

  it("rejects every item of a failed batch with the runner's error", async () => {
    const batcher = createDynamicBatcher<number, number>({
      maxBatch: 8,
      maxWaitMs: 0,
      maxQueue: 8,
      async runBatch() {
        throw new ClipEdgeError("internal", "boom");
      },
    });
    await expect(batcher.submit([1, 2])).rejects.toThrow("boom");
    const ok = createDynamicBatcher<number, number>({
      maxBatch: 8,
      maxWaitMs: 0,
      maxQueue: 8,
      runBatch: async (items) => items,
    });
    ok.close();
    await expect(ok.submit([1])).rejects.toMatchObject({ code: "unavailable" });
  });
});
