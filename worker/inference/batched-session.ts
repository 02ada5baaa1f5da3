/**
 * Run queue + micro-batching in front of one `InferenceSessionLike`.
 *
 * Runs go through the session one at a time. A run waits up to `windowMs` (or
 * until `maxBatch` rows are waiting, or until the run in progress ends) so that
 * concurrent requests for the same graph and the same fetches are concatenated
 * along the batch dimension into one `session.run`. Sequences of different
 * lengths are right-padded with zeros to the longest: the text graphs are
 * causal, so rows before the padding are unchanged, and pooling at
 * argmax(input_ids) still finds the real EOT. Outputs are sliced back per caller.
 *
 * No timers or promises cross requests (workerd binds them to the request that
 * made them): each waiting request polls on its own timers, and whichever
 * waiter finds the queue ready runs the next batch and leaves the other
 * callers' results in plain fields.
 */
import type {
  InferenceSessionLike,
  TensorData,
  TensorFactory,
  TensorLike,
} from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { type Settled, sleep } from "../runtime/own-context.ts";

export interface BatchedSessionOptions {
  session: InferenceSessionLike;
  tensor: TensorFactory;
  windowMs: number;
  maxBatch: number;
  label: string;
}

export interface BatchStats {
  /** `session.run` calls made. */
  runs: number;
  /** `run()` calls served (requests to this session). */
  requests: number;
  /** Largest number of rows in one `session.run`. */
  largestBatch: number;
}

export interface BatchedSession extends InferenceSessionLike {
  readonly stats: BatchStats;
}

interface Job {
  key: string;
  feeds: Record<string, TensorLike>;
  fetches?: readonly string[];
  rows: number;
  seq: number;
  enqueuedAt: number;
  settled?: Settled<Record<string, TensorLike>>;
}

export function createBatchedSession(options: BatchedSessionOptions): BatchedSession {
  const { session, tensor, windowMs, maxBatch, label } = options;
  const stats: BatchStats = { runs: 0, requests: 0, largestBatch: 0 };
  const pending: Job[] = [];
  let running = false;

  function pendingRows(): number {
    return pending.reduce((sum, job) => sum + job.rows, 0);
  }

  function ready(): boolean {
    if (running || pending.length === 0) return false;
    return (
      windowMs === 0 ||
      pendingRows() >= maxBatch ||
      performance.now() - pending[0].enqueuedAt >= windowMs
    );
  }

  async function drive(job: Job): Promise<Record<string, TensorLike>> {
    let delay = 1;
    while (!job.settled) {
      if (ready()) {
        await flush();
        delay = 1;
        continue;
      }
      await sleep(delay);
      // Short polls while this job waits to be batched, longer ones while a run is in progress.
      delay = running ? Math.min(delay * 2, 8) : 1;
    }
    if (!job.settled.ok) throw job.settled.error;
    return job.settled.value!;
  }

  async function flush(): Promise<void> {
    running = true;
    const key = pending[0].key;
    const batch: Job[] = [];
    let rows = 0;
    for (let i = 0; i < pending.length; ) {
      const job = pending[i];
      if (job.key === key && (batch.length === 0 || rows + job.rows <= maxBatch)) {
        batch.push(job);
        rows += job.rows;
        pending.splice(i, 1);
      } else i++;
    }
    try {
      await execute(batch, rows);
    } finally {
      running = false;
    }
  }

  async function execute(batch: Job[], rows: number): Promise<void> {
    stats.runs++;
    stats.largestBatch = Math.max(stats.largestBatch, rows);
    try {
      if (batch.length === 1) {
        batch[0].settled = { ok: true, value: await session.run(batch[0].feeds, batch[0].fetches) };
        return;
      }
      const seq = Math.max(...batch.map((j) => j.seq));
      const feeds: Record<string, TensorLike> = {};
      for (const name of Object.keys(batch[0].feeds)) {
        feeds[name] = concatRows(
          batch.map((j) => j.feeds[name]),
          seq,
          tensor,
        );
      }
      const outputs = await session.run(feeds, batch[0].fetches);
      let offset = 0;
      for (const job of batch) {
        const mine: Record<string, TensorLike> = {};
        for (const [name, value] of Object.entries(outputs)) {
          mine[name] = sliceRows(value, offset, job.rows, seq, job.seq, tensor);
        }
        offset += job.rows;
        job.settled = { ok: true, value: mine };
      }
    } catch (cause) {
      const error = new ClipEdgeError(
        "unavailable",
        `inference on ${label} failed for a batch of ${rows} sequence(s): ${(cause as Error)?.message ?? cause}`,
        { cause },
      );
      for (const job of batch) job.settled = { ok: false, error };
    }
  }

  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    stats,
    run(feeds, fetches) {
      stats.requests++;
      const first = Object.values(feeds)[0];
      const rows = first?.dims[0] ?? 1;
      const seq = first?.dims[1] ?? 1;
      const key = JSON.stringify([
        Object.entries(feeds).map(([n, t]) => [n, t.type, t.dims.length]),
        fetches ?? null,
      ]);
      const job: Job = { key, feeds, fetches, rows, seq, enqueuedAt: performance.now() };
      pending.push(job);
      return drive(job);
    },
  };
}

type TypedArray = Exclude<TensorData, never> & {
  length: number;
  set(source: ArrayLike<number | bigint>, offset?: number): void;
  subarray(begin: number, end?: number): TypedArray;
};

function ctorOf(data: TypedArray): new (length: number) => TypedArray {
  return data.constructor as new (
    length: number,
  ) => TypedArray;
}

/** Concatenates [rows, seq, ...] tensors along rows, right-padding dim 1 with zeros to `seq`. */
function concatRows(parts: TensorLike[], seq: number, tensor: TensorFactory): TensorLike {
  const first = parts[0];
  const rank = first.dims.length;
  const inner = first.dims.slice(2).reduce((a, b) => a * b, 1);
  const rows = parts.reduce((sum, p) => sum + p.dims[0], 0);
  const width = rank >= 2 ? seq * inner : 1;
  const out = new (ctorOf(first.data as TypedArray))(rows * width);
  let row = 0;
  for (const part of parts) {
    const data = part.data as TypedArray;
    const partWidth = rank >= 2 ? part.dims[1] * inner : 1;
    for (let r = 0; r < part.dims[0]; r++) {
      out.set(data.subarray(r * partWidth, (r + 1) * partWidth), (row + r) * width);
    }
    row += part.dims[0];
  }
  const dims = rank >= 2 ? [rows, seq, ...first.dims.slice(2)] : [rows];
  return tensor(first.type as never, out as TensorData, dims);
}

/** Takes `rows` rows from `offset`, cutting dim 1 back from `paddedSeq` to `seq` when it is the sequence. */
function sliceRows(
  value: TensorLike,
  offset: number,
  rows: number,
  paddedSeq: number,
  seq: number,
  tensor: TensorFactory,
): TensorLike {
  const dims = value.dims;
  const data = value.data as TypedArray;
  const rowSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const isSeq = dims.length >= 3 && dims[1] === paddedSeq;
  if (!isSeq) {
    const part = (data as unknown as { slice(a: number, b: number): TypedArray }).slice(
      offset * rowSize,
      (offset + rows) * rowSize,
    );
    return tensor(value.type as never, part as TensorData, [rows, ...dims.slice(1)]);
  }
  const inner = dims.slice(2).reduce((a, b) => a * b, 1);
  const out = new (ctorOf(data))(rows * seq * inner);
  for (let r = 0; r < rows; r++) {
    const start = (offset + r) * rowSize;
    out.set(data.subarray(start, start + seq * inner), r * seq * inner);
  }
  return tensor(value.type as never, out as TensorData, [rows, seq, ...dims.slice(2)]);
}
