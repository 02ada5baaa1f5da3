/**
 * Bench-only entry around the real worker app (worker/app-from-env.ts, the
 * repo's wrangler.toml) for the per-request breakdown of issue #14 part 1,
 * started by bench/workerd/app-breakdown-bench.ts. The app, its routes, model
 * registry, staged sessions and serialisation are the shipped ones; this entry
 * only wraps two of its injected dependencies:
 *   - the onnxruntime-web runtime: every `session.run` (one per stage at
 *     `--edge`) is counted, and the first outputs per (run index, input
 *     shapes) are kept (copied once, in the warm-up). Request header
 *     `x-bench-run-stages: k` runs only the first k stages for real; later
 *     runs answer the kept outputs of the same stage, run index and input
 *     shapes, so the request still completes (200, same math and
 *     serialisation) without those stages' work. (Stopping by throwing was
 *     tried first: the error path, logged and source-mapped by wrangler, cost
 *     more than the stages.) `x-bench-extra-copy: 1` hands the app those
 *     copies instead of onnxruntime's outputs: one more JS copy per stage;
 *   - the MODELS bucket: ranged reads (token rows) are timed inside the isolate,
 *     which is honest for I/O: workerd's clocks advance on I/O only.
 * Response headers `x-bench-runs` (runs), `x-bench-replayed` (of them answered
 * from the kept outputs) and `x-bench-row-read-ms` /
 * `x-bench-row-reads` (wall time with a ranged read in flight, and their count).
 */
import type { TensorData, TensorLike, TensorType } from "../../conditioning/encoder/session.ts";
import { createWorkerApp, type WorkerEnv } from "../../worker/app-from-env.ts";
import type { BucketLike } from "../../worker/models/bundle-store.ts";
import type { OrtRuntime } from "../../worker/runtime/ort-runtime.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";

// wrangler.toml binds this Durable Object class; an entry that does not export it fails to start.
export { BatchObject } from "../../worker/batch/batch-object.ts";

const control = { runStages: Number.POSITIVE_INFINITY, extraCopy: false, runs: 0, replayed: 0 };
const io = { inflight: 0, since: 0, ms: 0, reads: 0 };
/** The first real outputs per (stage, run index, input shapes), replayed by skipped runs. */
const lastOutputs = new Map<string, Record<string, TensorLike>>();

function instrument(runtime: OrtRuntime): OrtRuntime {
  const copyOutputs = (out: Record<string, TensorLike>) => {
    const copied: Record<string, TensorLike> = {};
    for (const [name, t] of Object.entries(out)) {
      const data = (t.data as TensorData).slice() as TensorData;
      copied[name] = runtime.tensor(t.type as TensorType, data, t.dims);
    }
    return copied;
  };
  return {
    ...runtime,
    async createSession(bytes, label, externalData) {
      const session = await runtime.createSession(bytes, label, externalData);
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        async run(feeds, fetches) {
          const index = control.runs++;
          const key = `${label}|${index}|${Object.values(feeds)
            .map((t) => t.dims.join("x"))
            .join(",")}|${fetches?.join(",")}`;
          const replay = lastOutputs.get(key);
          if (index >= control.runStages && replay) {
            control.replayed++;
            const out: Record<string, TensorLike> = {};
            for (const [name, t] of Object.entries(replay)) {
              out[name] = runtime.tensor(t.type as TensorType, t.data as TensorData, t.dims);
            }
            return out;
          }
          const out = await session.run(feeds, fetches);
          // Kept once per key (the first real run), so real runs pay no copy of their own.
          if (!lastOutputs.has(key)) lastOutputs.set(key, copyOutputs(out));
          if (!control.extraCopy) return out;
          const copied = copyOutputs(out);
          return copied;
        },
      };
    },
  };
}

function timedBucket(bucket: BucketLike): BucketLike {
  const begin = () => {
    if (io.inflight++ === 0) io.since = Date.now();
  };
  const end = () => {
    if (--io.inflight === 0) io.ms += Date.now() - io.since;
  };
  return {
    list: (options) => bucket.list(options),
    async get(key, options) {
      if (!options?.range) return bucket.get(key, options);
      io.reads++;
      begin();
      try {
        const object = await bucket.get(key, options);
        if (!object) return object;
        const bytes = await object.arrayBuffer();
        return { size: object.size, arrayBuffer: async () => bytes };
      } finally {
        end();
      }
    },
  };
}

let app: ReturnType<typeof createWorkerApp> | undefined;

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    const stages = request.headers.get("x-bench-run-stages");
    control.runStages = stages === null ? Number.POSITIVE_INFINITY : Number(stages);
    control.replayed = 0;
    control.extraCopy = request.headers.get("x-bench-extra-copy") === "1";
    control.runs = 0;
    io.ms = 0;
    io.reads = 0;
    app ??= createWorkerApp({
      env: { ...env, MODELS: timedBucket(env.MODELS) },
      runtime: (options) => instrument(createWorkerOrtRuntime(options)),
    });
    const res = await app.fetch(request, env, ctx);
    const out = new Response(res.body, res);
    out.headers.set("x-bench-runs", String(control.runs));
    out.headers.set("x-bench-replayed", String(control.replayed));
    out.headers.set("x-bench-row-read-ms", String(io.ms));
    out.headers.set("x-bench-row-reads", String(io.reads));
    return out;
  },
};
