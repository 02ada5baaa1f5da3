/**
 * The worker's `queue()` handler. Each message of BATCH_QUEUE is one chunk of a batch: the
 * batch's Durable Object says whether to run it (not twice, not once cancelled); its lines go
 * through the online routes in-process (chunk-runner.ts); the result lines are written to
 * R2 at keys fixed by the chunk, then the chunk lands in the Durable Object. A failing chunk
 * is retried by Queues (message.retry()); after the last retry it moves to the dead-letter
 * queue, whose messages (same handler) record every line of the chunk as failed.
 */
import type { WorkerLimits } from "../config/limits.ts";
import type { BatchEndpoint } from "./batch-schema.ts";
import { requestId } from "./batch-schema.ts";
import { type BatchDeps, type ChunkMessage, chunkKey, fileKey } from "./batch-store.ts";
import { runChunk } from "./chunk-runner.ts";
import { chunkLines, toJsonl } from "./jsonl.ts";

export const DEAD_LETTER_SUFFIX = "-dlq";

export interface ConsumerOptions {
  deps: BatchDeps;
  limits: WorkerLimits;
  /** The online app (Hono's `app.fetch`). */
  fetch: (request: Request) => Response | Promise<Response>;
  /** Headers of the in-process requests (the API key when keys are configured). */
  headers: Record<string, string>;
  log?: (line: string) => void;
}

export async function consumeChunks(
  batch: MessageBatch<ChunkMessage>,
  options: ConsumerOptions,
): Promise<void> {
  const dead = batch.queue.endsWith(DEAD_LETTER_SUFFIX);
  const log = options.log ?? ((line: string) => console.log(line));
  await Promise.all(
    batch.messages.map(async (message) => {
      const chunk = message.body;
      try {
        if (dead) await failChunk(chunk, options);
        else await runQueuedChunk(chunk, message.attempts, options, log);
        message.ack();
      } catch (error) {
        log(
          `clip-edge batch ${chunk.batchId} chunk ${chunk.chunk}: attempt ${message.attempts} failed, retrying: ${(error as Error).message}`,
        );
        message.retry();
      }
    }),
  );
}

async function runQueuedChunk(
  chunk: ChunkMessage,
  attempts: number,
  options: ConsumerOptions,
  log: (line: string) => void,
): Promise<void> {
  const { deps, limits } = options;
  const state = deps.state(chunk.batchId);
  if ((await state.claim(chunk.chunk)) === "skip") {
    await state.skip(chunk.chunk);
    return;
  }
  const batch = await state.get();
  if (!batch) return;
  const lines = await readChunk(chunk, options);
  const { output, errors } = await runChunk({
    batchId: chunk.batchId,
    endpoint: batch.endpoint as BatchEndpoint,
    lines,
    fetch: options.fetch,
    headers: options.headers,
    concurrency: limits.batchLineConcurrency,
  });
  const outBytes = await write(options, chunkKey(chunk.batchId, "out", chunk.chunk), output);
  const errBytes = await write(options, chunkKey(chunk.batchId, "err", chunk.chunk), errors);
  if (limits.batchFaultFirstDelivery && attempts === 1) {
    log(`clip-edge batch ${chunk.batchId} chunk ${chunk.chunk}: test fault on first delivery`);
    throw new Error("BATCH_FAULT_FIRST_DELIVERY: test fault on the chunk's first delivery");
  }
  await state.land(chunk.chunk, {
    completed: output.length,
    failed: errors.length,
    outBytes,
    errBytes,
  });
}

/** A chunk out of retries: every line is an error line, so the batch still finishes. */
async function failChunk(chunk: ChunkMessage, options: ConsumerOptions): Promise<void> {
  const state = options.deps.state(chunk.batchId);
  if ((await state.claim(chunk.chunk)) === "skip") {
    await state.skip(chunk.chunk);
    return;
  }
  const lines = await readChunk(chunk, options);
  const errors = lines.map(({ line, text }) => {
    let customId: string | null = null;
    try {
      const id = (JSON.parse(text) as { custom_id?: unknown }).custom_id;
      if (typeof id === "string") customId = id;
    } catch {}
    return {
      id: requestId(chunk.batchId, line),
      custom_id: customId,
      response: null,
      error: {
        code: "internal",
        message: `line ${line}: its chunk failed on every retry (moved to the dead-letter queue)`,
      },
    };
  });
  const errBytes = await write(options, chunkKey(chunk.batchId, "err", chunk.chunk), errors);
  await state.land(chunk.chunk, { completed: 0, failed: errors.length, outBytes: 0, errBytes });
}

async function readChunk(chunk: ChunkMessage, options: ConsumerOptions) {
  const object = await options.deps.bucket.get(fileKey(chunk.fileId), {
    range: { offset: chunk.offset, length: chunk.length },
  });
  if (!object) throw new Error(`batch ${chunk.batchId}: input file ${chunk.fileId} is gone`);
  return chunkLines(await object.text(), chunk.firstLine);
}

async function write(options: ConsumerOptions, key: string, lines: unknown[]): Promise<number> {
  if (lines.length === 0) return 0;
  const bytes = new TextEncoder().encode(toJsonl(lines));
  await options.deps.bucket.put(key, bytes);
  return bytes.length;
}
