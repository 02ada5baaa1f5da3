/**
 * Run queue + micro-batching in front of one `InferenceSessionLike`.
 *
 * Runs go through the session one at a time. A run waits up to `windowMs` (0:
 * not at all when the session is idle; or until `maxBatch` rows are waiting,
 * or until the run in progress ends) so that concurrent requests for the same graph and the same fetches are concatenated
 * along the batch dimension into one `session.run`. Sequences of different
 * lengths are right-padded with zeros to the longest: the text graphs are
 * causal, so rows before the padding are unchanged, and pooling at
 * argmax(input_ids) still finds the real EOT. Outputs are sliced back per caller.
 *
 * With a memory budget (worker/inference/memory-budget.ts), a batch takes only
 * the rows whose activations fit beside what is loaded and running; a request's
 * rows may run in several batches, and the rest wait. Results do not depend on
 * how rows are grouped (per-token int8: test/worker/int8-batch-independence), so
 * the split is exact. A run whose allocation still fails (the heap is capped at
 * the budget) is retried in halves; one row that cannot run answers 503
 * `over_capacity`. More than `maxQueuedRows` rows waiting also answers it.
 *
 * No timers or promises cross requests (workerd binds them to the request that
 * made them): each waiting request polls on its own timers, and whichever
 * waiter finds the queue ready runs the next batch and leaves the other
 * callers' results in plain fields.
 */
import type {
  InferenceSessionLike,
  TensorFactory,
  TensorLike,
} from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { type Settled, sleep } from "../runtime/own-context.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import { concatRows, joinRows, sliceRows, viewRows } from "./row-tensors.ts";

export interface BatchMemory {
  budget: MemoryBudget;
  /** Heap per token position of this graph's runs (bytes). */
  tokenBytes: number;
  /** How the budget is configured, for messages (e.g. "MEMORY_BUDGET_MB=120"). */
  describe: string;
}

export interface BatchedSessionOptions {
  session: InferenceSessionLike;
  tensor: TensorFactory;
  windowMs: number;
  maxBatch: number;
  label: string;
  memory?: BatchMemory;
  /** Most rows waiting for this session (0 or absent: no limit); more answer 503 over_capacity. */
  maxQueuedRows?: number;
}

export interface BatchStats {
  /** `session.run` calls made. */
  runs: number;
  /** `run()` calls served (requests to this session). */
  requests: number;
  /** Largest number of rows in one `session.run`. */
  largestBatch: number;
  /** Runs whose allocation failed under the heap cap (then retried smaller). */
  allocationFailures: number;
  /** Requests answered 503 over_capacity (queue full, or one row does not fit). */
  refused: number;
}

export interface BatchedSession extends InferenceSessionLike {
  readonly stats: BatchStats;
  /** True while rows wait or run. */
  busy(): boolean;
  /** Rows waiting (not yet running). */
  queuedRows(): number;
}

interface Job {
  key: string;
  feeds: Record<string, TensorLike>;
  fetches?: readonly string[];
  rows: number;
  seq: number;
  enqueuedAt: number;
  /** Next row not yet given to a batch. */
  next: number;
  /** Rows whose outputs are in `parts`. */
  done: number;
  parts: { from: number; outputs: Record<string, TensorLike> }[];
  settled?: Settled<Record<string, TensorLike>>;
}

interface Slice {
  job: Job;
  from: number;
  count: number;
}

const ALLOCATION_FAILURE = /bad_alloc|failed to allocate|out of memory|cannot allocate/i;

export function createBatchedSession(options: BatchedSessionOptions): BatchedSession {
  const { session, tensor, windowMs, maxBatch, label, memory } = options;
  const stats: BatchStats = {
    runs: 0,
    requests: 0,
    largestBatch: 0,
    allocationFailures: 0,
    refused: 0,
  };
  const pending: Job[] = [];
  let running = false;
  // Lowered when a run of that many rows failed to allocate under the heap cap.
  let rowCap = maxBatch;

  const waitingRows = () => pending.reduce((sum, job) => sum + job.rows - job.next, 0);

  function ready(): boolean {
    if (running || pending.length === 0) return false;
    return (
      windowMs === 0 ||
      waitingRows() >= maxBatch ||
      performance.now() - pending[0].enqueuedAt >= windowMs
    );
  }

  async function drive(job: Job): Promise<Record<string, TensorLike>> {
    let delay = 1;
    while (!job.settled) {
      if (ready() && (await flush())) {
        delay = 1;
        continue;
      }
      await sleep(delay);
      // Short polls while this job waits to be batched, longer ones while a run is in progress
      // or memory is taken.
      delay = running || !ready() ? Math.min(delay * 2, 8) : 1;
    }
    if (!job.settled.ok) throw job.settled.error;
    return job.settled.value!;
  }

  function settle(job: Job, settled: Settled<Record<string, TensorLike>>): void {
    job.settled = settled;
    const at = pending.indexOf(job);
    if (at >= 0) pending.splice(at, 1);
  }

  function overCapacity(message: string, details: Record<string, unknown> = {}): ClipEdgeError {
    stats.refused++;
    return new ClipEdgeError("over_capacity", message, { details });
  }

  /** The rows of the next batch: FIFO, same graph feeds, within maxBatch and the memory budget. */
  function plan(): { slices: Slice[]; rows: number; seq: number } {
    const key = pending[0].key;
    const freeTokens = memory
      ? Math.floor(memory.budget.freeBytes() / memory.tokenBytes)
      : Infinity;
    const slices: Slice[] = [];
    let rows = 0;
    let seq = 0;
    for (const job of pending) {
      if (job.key !== key || job.next >= job.rows) continue;
      const s = Math.max(seq, job.seq);
      const fit = Math.min(rowCap, Math.floor(freeTokens / s)) - rows;
      const take = Math.min(job.rows - job.next, fit);
      if (take <= 0) break;
      slices.push({ job, from: job.next, count: take });
      rows += take;
      seq = s;
      if (rows >= rowCap) break;
    }
    return { slices, rows, seq };
  }

  /** Runs the next batch; false when nothing could run now (memory taken). */
  async function flush(): Promise<boolean> {
    const { slices, rows, seq } = plan();
    if (slices.length === 0) {
      // Nothing of this isolate runs, yet not one row fits: it never will.
      if (memory && memory.budget.runningBytes() === 0) refuseFirst();
      return false;
    }
    const bytes = memory ? rows * seq * memory.tokenBytes : 0;
    if (memory && !memory.budget.reserve(bytes)) return false;
    for (const s of slices) s.job.next += s.count;
    running = true;
    try {
      await execute(slices, rows, seq);
    } finally {
      if (memory) memory.budget.release(bytes);
      running = false;
    }
    return true;
  }

  function refuseFirst(): void {
    const job = pending[0];
    const m = memory!;
    const need = job.seq * m.tokenBytes;
    settle(job, {
      ok: false,
      error: overCapacity(
        `${label}: one ${job.seq}-token row needs ~${mb(need)} MB of WASM heap, but ${m.describe} leaves ${mb(m.budget.freeBytes())} MB beside the loaded models (${mb(m.budget.committedBytes())} MB); raise MEMORY_BUDGET_MB or load fewer models in this isolate`,
        { budget_bytes: m.budget.budgetBytes(), needed_bytes: need },
      ),
    });
  }

  async function execute(slices: Slice[], rows: number, seq: number): Promise<void> {
    stats.runs++;
    stats.largestBatch = Math.max(stats.largestBatch, rows);
    const whole = slices.length === 1 && slices[0].count === slices[0].job.rows;
    try {
      const feeds: Record<string, TensorLike> = {};
      for (const name of Object.keys(slices[0].job.feeds)) {
        feeds[name] = whole
          ? slices[0].job.feeds[name]
          : concatRows(
              slices.map((s) => viewRows(s.job.feeds[name], s.from, s.count)),
              seq,
              tensor,
            );
      }
      const outputs = await session.run(feeds, slices[0].job.fetches);
      let offset = 0;
      for (const { job, from, count } of slices) {
        const mine: Record<string, TensorLike> = {};
        for (const [name, value] of Object.entries(outputs)) {
          mine[name] = whole ? value : sliceRows(value, offset, count, seq, job.seq, tensor);
        }
        offset += count;
        job.parts.push({ from, outputs: mine });
        job.done += count;
        if (job.done >= job.rows) settle(job, { ok: true, value: assemble(job) });
      }
    } catch (cause) {
      failed(slices, rows, seq, cause);
    }
  }

  function failed(slices: Slice[], rows: number, seq: number, cause: unknown): void {
    const message = (cause as Error)?.message ?? String(cause);
    if (memory && ALLOCATION_FAILURE.test(message)) {
      stats.allocationFailures++;
      if (rows > 1) {
        // Give the rows back (this batch held each job's latest rows) and retry in halves.
        rowCap = Math.max(1, Math.floor(rows / 2));
        for (const s of slices) s.job.next = s.from;
        return;
      }
      const error = overCapacity(
        `${label}: a ${seq}-token row did not fit in the WASM heap under ${memory.describe} (estimated ${mb(memory.budget.committedBytes())} MB loaded): ${message}`,
        { budget_bytes: memory.budget.budgetBytes() },
      );
      for (const s of slices) settle(s.job, { ok: false, error });
      return;
    }
    const error = new ClipEdgeError(
      "unavailable",
      `inference on ${label} failed for a batch of ${rows} sequence(s): ${message}`,
      { cause },
    );
    for (const s of slices) settle(s.job, { ok: false, error });
  }

  function assemble(job: Job): Record<string, TensorLike> {
    if (job.parts.length === 1) return job.parts[0].outputs;
    const parts = [...job.parts].sort((a, b) => a.from - b.from);
    const out: Record<string, TensorLike> = {};
    for (const name of Object.keys(parts[0].outputs)) {
      out[name] = joinRows(
        parts.map((p) => p.outputs[name]),
        tensor,
      );
    }
    return out;
  }

  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    stats,
    busy: () => running || pending.length > 0,
    queuedRows: waitingRows,
    run(feeds, fetches) {
      stats.requests++;
      const first = Object.values(feeds)[0];
      const rows = first?.dims[0] ?? 1;
      const seq = first?.dims[1] ?? 1;
      const queued = waitingRows();
      const limit = options.maxQueuedRows ?? 0;
      if (limit > 0 && queued > 0 && queued + rows > limit) {
        return Promise.reject(
          overCapacity(
            `${label}: ${queued} rows already wait to run and this request adds ${rows}, over MAX_QUEUED_ROWS=${limit}; retry shortly`,
            { queued_rows: queued, max_queued_rows: limit },
          ),
        );
      }
      const key = JSON.stringify([
        Object.entries(feeds).map(([n, t]) => [n, t.type, t.dims.length]),
        fetches ?? null,
      ]);
      const job: Job = {
        key,
        feeds,
        fetches,
        rows,
        seq,
        enqueuedAt: performance.now(),
        next: 0,
        done: 0,
        parts: [],
      };
      pending.push(job);
      return drive(job);
    },
  };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
