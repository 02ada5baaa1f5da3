/**
 * Dynamic batching across concurrent requests: items queue up and are run together in one
 * `runBatch` call (one `session.run` on the device). A batch starts when `maxBatch` items
 * are waiting, or `maxWaitMs` after the oldest waiting item arrived, and never while
 * another batch is running (the device runs one batch at a time; items that arrive during
 * a run form the next batch). The queue is bounded: admission beyond `maxQueue` items
 * fails with ClipEdgeError("overloaded") carrying a Retry-After estimate.
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface DynamicBatcherOptions<I, O> {
  maxBatch: number;
  maxWaitMs: number;
  /** Items allowed to wait (not counting the running batch). */
  maxQueue: number;
  runBatch(items: I[]): Promise<O[]>;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface BatcherStats {
  queued: number;
  running: number;
  batches: number;
  items: number;
  /** Count of batches per batch size. */
  batchSizes: Record<number, number>;
  /** Exponential moving average of one batch's run time, ms. */
  avgBatchMs: number;
}

export interface DynamicBatcher<I, O> {
  /** Queues all items atomically (all admitted or none) and resolves with their outputs in order. */
  submit(items: I[]): Promise<O[]>;
  stats(): BatcherStats;
  /** Rejects everything queued and refuses new items. */
  close(reason?: string): void;
}

interface Pending<I, O> {
  item: I;
  at: number;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export function createDynamicBatcher<I, O>(
  options: DynamicBatcherOptions<I, O>,
): DynamicBatcher<I, O> {
  const { maxBatch, maxWaitMs, maxQueue, runBatch } = options;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) {
    throw new ClipEdgeError("usage", `maxBatch must be a positive integer, got ${maxBatch}`);
  }
  if (!(maxWaitMs >= 0))
    throw new ClipEdgeError("usage", `maxWaitMs must be >= 0, got ${maxWaitMs}`);
  if (!(Number.isInteger(maxQueue) && maxQueue >= 1)) {
    throw new ClipEdgeError("usage", `maxQueue must be a positive integer, got ${maxQueue}`);
  }
  const now = options.now ?? (() => performance.now());
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer =
    options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const queue: Pending<I, O>[] = [];
  let running = 0;
  let timer: unknown;
  let closed: string | undefined;
  const stats = { batches: 0, items: 0, batchSizes: {} as Record<number, number>, avgBatchMs: 0 };

  function schedule(): void {
    if (running > 0 || queue.length === 0) return;
    if (queue.length >= maxBatch) {
      void runNext();
      return;
    }
    if (timer !== undefined) return;
    const wait = Math.max(0, maxWaitMs - (now() - queue[0].at));
    if (wait === 0) {
      void runNext();
      return;
    }
    timer = setTimer(() => {
      timer = undefined;
      void runNext();
    }, wait);
  }

  async function runNext(): Promise<void> {
    if (timer !== undefined) {
      clearTimer(timer);
      timer = undefined;
    }
    if (running > 0 || queue.length === 0) return;
    const batch = queue.splice(0, maxBatch);
    running = batch.length;
    const started = now();
    try {
      const outputs = await runBatch(batch.map((p) => p.item));
      if (outputs.length !== batch.length) {
        throw new ClipEdgeError(
          "internal",
          `batch of ${batch.length} items produced ${outputs.length} outputs`,
        );
      }
      for (const [i, p] of batch.entries()) p.resolve(outputs[i]);
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      const ms = now() - started;
      stats.avgBatchMs = stats.batches === 0 ? ms : 0.8 * stats.avgBatchMs + 0.2 * ms;
      stats.batches++;
      stats.items += batch.length;
      stats.batchSizes[batch.length] = (stats.batchSizes[batch.length] ?? 0) + 1;
      running = 0;
      schedule();
    }
  }

  return {
    submit(items) {
      if (closed) {
        return Promise.reject(
          new ClipEdgeError("unavailable", closed, { details: { retryAfterSeconds: 5 } }),
        );
      }
      if (items.length === 0) return Promise.resolve([]);
      if (queue.length + items.length > maxQueue) {
        const batchesAhead = Math.ceil((queue.length + items.length) / maxBatch) + 1;
        return Promise.reject(
          new ClipEdgeError(
            "overloaded",
            `queue full: ${queue.length} images waiting, ${items.length} more would exceed the limit of ${maxQueue}`,
            {
              details: { retryAfterSeconds: Math.max(1, (batchesAhead * stats.avgBatchMs) / 1000) },
            },
          ),
        );
      }
      const at = now();
      const promises = items.map(
        (item) =>
          new Promise<O>((resolve, reject) => {
            queue.push({ item, at, resolve, reject });
          }),
      );
      schedule();
      return Promise.all(promises);
    },
    stats() {
      return { queued: queue.length, running, ...stats, batchSizes: { ...stats.batchSizes } };
    },
    close(reason = "origin is shutting down") {
      closed = reason;
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      for (const p of queue.splice(0)) {
        p.reject(new ClipEdgeError("unavailable", reason, { details: { retryAfterSeconds: 5 } }));
      }
    },
  };
}
