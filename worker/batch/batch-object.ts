/**
 * The Durable Object of one batch (binding BATCH, one per batch id): its status, request
 * counts, cancellation and which chunks have landed. A chunk lands once: a repeat (a retried
 * or redelivered queue message) is ignored, so no line is counted or written twice. When
 * every chunk has landed or been skipped, the output and error files are assembled from the
 * chunks' result objects in R2. An alarm at `expires_at` expires a batch still running.
 */
import { DurableObject } from "cloudflare:workers";
import type { Batch } from "./batch-schema.ts";
import { TERMINAL_STATUSES } from "./batch-schema.ts";
import type { BatchBucket, BatchState, ChunkResult } from "./batch-store.ts";
import { assembleFiles } from "./output-files.ts";

interface Stored {
  batch: Batch;
  chunks: number;
}

type ChunkRecord = ChunkResult | "skipped";

const now = () => Math.floor(Date.now() / 1000);

export class BatchObject extends DurableObject<{ BATCHES: R2Bucket }> implements BatchState {
  #finalizing: Promise<void> | undefined;

  async #load(): Promise<Stored | undefined> {
    return this.ctx.storage.get<Stored>("state");
  }

  async #save(state: Stored): Promise<void> {
    await this.ctx.storage.put("state", state);
  }

  async init(batch: Batch, chunks: number): Promise<Batch> {
    const existing = await this.#load();
    if (existing) return existing.batch;
    await this.#save({ batch, chunks });
    if (batch.expires_at) await this.ctx.storage.setAlarm(batch.expires_at * 1000);
    return batch;
  }

  async get(): Promise<Batch | null> {
    return (await this.#load())?.batch ?? null;
  }

  async cancel(): Promise<Batch | null> {
    const state = await this.#load();
    if (!state) return null;
    if (state.batch.status === "in_progress" || state.batch.status === "validating") {
      state.batch.status = "cancelling";
      state.batch.cancelling_at = now();
      await this.#save(state);
    }
    await this.#maybeFinalize();
    return (await this.#load())?.batch ?? null;
  }

  async claim(chunk: number): Promise<"run" | "skip"> {
    const state = await this.#load();
    if (state?.batch.status !== "in_progress") return "skip";
    return (await this.ctx.storage.get(`chunk:${chunk}`)) ? "skip" : "run";
  }

  async land(chunk: number, result: ChunkResult): Promise<void> {
    await this.#record(chunk, result);
  }

  async skip(chunk: number): Promise<void> {
    await this.#record(chunk, "skipped");
  }

  override async alarm(): Promise<void> {
    const state = await this.#load();
    if (!state || TERMINAL_STATUSES.includes(state.batch.status)) return;
    if (state.batch.status === "in_progress" || state.batch.status === "cancelling") {
      state.batch.status = "expired";
      state.batch.expired_at = now();
      await this.#save(state);
    }
    // Chunks still queued are skipped by claim(); the files hold what landed.
    await this.#finalize(state, await this.#records());
  }

  async #record(chunk: number, record: ChunkRecord): Promise<void> {
    const key = `chunk:${chunk}`;
    const state = await this.#load();
    if (!state) return;
    if (!(await this.ctx.storage.get(key)) && !TERMINAL_STATUSES.includes(state.batch.status)) {
      if (record !== "skipped") {
        state.batch.request_counts.completed += record.completed;
        state.batch.request_counts.failed += record.failed;
      }
      // One transaction: the chunk is recorded exactly when its counts are.
      await this.ctx.storage.put({ [key]: record, state });
    }
    await this.#maybeFinalize();
  }

  async #records(): Promise<Map<number, ChunkRecord>> {
    const entries = await this.ctx.storage.list<ChunkRecord>({ prefix: "chunk:" });
    return new Map([...entries].map(([k, v]) => [Number(k.slice("chunk:".length)), v]));
  }

  /** Finishes the batch once every chunk is in (landed or skipped), once. */
  async #maybeFinalize(): Promise<void> {
    const state = await this.#load();
    if (!state || TERMINAL_STATUSES.includes(state.batch.status)) return;
    const records = await this.#records();
    // Cancelling: chunks running now land, queued ones are skipped as their messages arrive;
    // either way every chunk ends up recorded.
    if (records.size < state.chunks) return;
    await this.#finalize(state, records);
  }

  async #finalize(state: Stored, records: Map<number, ChunkRecord>): Promise<void> {
    this.#finalizing ??= (async () => {
      const { batch } = state;
      const ending = batch.status;
      if (ending === "in_progress") {
        batch.status = "finalizing";
        batch.finalizing_at = now();
        await this.#save(state);
      }
      const files = await assembleFiles({
        bucket: this.env.BATCHES as unknown as BatchBucket,
        batchId: batch.id,
        chunks: [...records]
          .filter((entry): entry is [number, ChunkResult] => entry[1] !== "skipped")
          .sort((a, b) => a[0] - b[0]),
      });
      batch.output_file_id = files.outputFileId;
      batch.error_file_id = files.errorFileId;
      if (ending === "cancelling") {
        batch.status = "cancelled";
        batch.cancelled_at = now();
      } else if (ending !== "expired") {
        batch.status = "completed";
        batch.completed_at = now();
      }
      await this.#save(state);
      await this.ctx.storage.deleteAlarm();
      await (this.env.BATCHES as unknown as BatchBucket).delete(`active/${batch.id}`);
    })().finally(() => {
      this.#finalizing = undefined;
    });
    await this.#finalizing;
  }
}
