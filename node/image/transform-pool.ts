/**
 * Runs the CPU-heavy part of preprocessing (PIL-exact resize, crop, normalise) on a pool of
 * worker threads so the event loop keeps serving requests and feeding the device. Decoding
 * already runs in libvips' own threads. Jobs go to the least busy worker; a crashed worker
 * fails its jobs and is replaced.
 */
import { Worker } from "node:worker_threads";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { DecodedImage } from "./clip-transform.ts";
import type { PreprocessorConfig } from "./config.ts";

export interface TransformPool {
  transform(image: DecodedImage, config: PreprocessorConfig): Promise<Float32Array>;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve(v: Float32Array): void; reject(e: unknown): void }>;
}

export function createTransformPool(options: { size: number; workerUrl?: URL }): TransformPool {
  const url = options.workerUrl ?? new URL("./transform-worker-boot.mjs", import.meta.url);
  if (!(Number.isInteger(options.size) && options.size >= 1)) {
    throw new ClipEdgeError(
      "usage",
      `preprocess threads must be a positive integer, got ${options.size}`,
    );
  }
  let nextId = 0;
  let closed = false;
  const slots: Slot[] = [];

  function spawn(index: number): void {
    const slot: Slot = { worker: new Worker(url), pending: new Map() };
    slot.worker.unref();
    slot.worker.on("message", (msg: { id: number; out?: Float32Array; error?: string }) => {
      const job = slot.pending.get(msg.id);
      if (!job) return;
      slot.pending.delete(msg.id);
      if (msg.out) job.resolve(msg.out);
      else job.reject(new ClipEdgeError("internal", `preprocessing failed: ${msg.error}`));
    });
    const fail = (error: unknown) => {
      for (const job of slot.pending.values()) {
        job.reject(new ClipEdgeError("internal", "preprocessing worker stopped", { cause: error }));
      }
      slot.pending.clear();
      if (!closed) spawn(index);
    };
    slot.worker.on("error", fail);
    slot.worker.on("exit", (code) => {
      if (!closed && slots[index] === slot) fail(new Error(`exit code ${code}`));
    });
    slots[index] = slot;
  }
  for (let i = 0; i < options.size; i++) spawn(i);

  return {
    transform(image, config) {
      if (closed)
        return Promise.reject(new ClipEdgeError("unavailable", "preprocessing pool is closed"));
      const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise<Float32Array>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ id, image, config });
      });
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
