/**
 * Bench worker, run inside workerd by bench/workerd/workerd-bench.ts. It uses
 * the worker's own onnxruntime-web adapter (worker/runtime/ort-wasm.ts) and
 * keeps one session per isolate.
 *   PUT  /seed?key=K   body -> R2 MODELS/K
 *   POST /load?key=K[&data=D][&table=T&tableBytes=N&vocab=V&width=W]
 *                      R2 read(s) + session creation; reports R2 ms and WASM heap.
 *                      D: the graph's external data (ONNX `<graph>.data`), handed to
 *                      the adapter under its file name; T: the token table outside
 *                      the graph (`token_embedding.safetensors`) kept in R2, read by
 *                      the worker's own reader (conditioning/encoder/token-embedding-rows.ts)
 *                      with no LRU, so every run pays its range reads
 *                      With `stage=i&stages=n` (a staged graph, one call per stage, in
 *                      the driver's load order) the stage sessions are chained once all
 *                      n are created.
 *   POST /run?tokens=N&seq=S&batch=B&fetch=pooled|full   one inference; with a table,
 *                      `token_embeds` is gathered per request by R2 range reads
 *   GET  /noop         round-trip baseline
 * workerd freezes timers during CPU work, so only I/O (the R2 read) is timed
 * inside; the driver times everything else from outside.
 */
import type { InferenceSessionLike, TensorLike } from "../../conditioning/encoder/session.ts";
import { createStagedSession } from "../../conditioning/encoder/staged-session.ts";
import {
  createTokenEmbeddingRows,
  type TokenEmbeddingRows,
} from "../../conditioning/encoder/token-embedding-rows.ts";
import { installWasmMemoryProbe } from "../../conditioning/memory/wasm-memory-probe.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { promptIds } from "../scenarios/prompt-ids.ts";

interface Env {
  MODELS: R2Bucket;
}

const probe = installWasmMemoryProbe();
const runtime = createWorkerOrtRuntime();
let session: InferenceSessionLike | undefined;
let pendingStages: InferenceSessionLike[] = [];
let rows: TokenEmbeddingRows | undefined;

async function readAll(env: Env, key: string): Promise<Uint8Array> {
  const object = await env.MODELS.get(key);
  if (!object) throw new Error(`no ${key} in R2`);
  return new Uint8Array(await object.arrayBuffer());
}

const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const q = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
    try {
      if (url.pathname === "/noop") return json({ ok: true });
      if (url.pathname === "/seed") {
        const key = url.searchParams.get("key")!;
        const put = await env.MODELS.put(key, await request.arrayBuffer());
        return json({ key, bytes: put?.size });
      }
      if (url.pathname === "/load") {
        const key = url.searchParams.get("key")!;
        const dataKey = url.searchParams.get("data");
        const tableKey = url.searchParams.get("table");
        const t0 = Date.now();
        let bytes: Uint8Array | undefined = await readAll(env, key);
        let externalData = dataKey
          ? [{ path: dataKey.split("/").pop()!, data: await readAll(env, dataKey) }]
          : undefined;
        const r2ReadMs = Date.now() - t0;
        const size = bytes.byteLength + (externalData?.[0].data.byteLength ?? 0);
        const created = await runtime.createSession(bytes, key, externalData);
        // Drop the JS copies: only the WASM heap holds the weights from here on.
        bytes = undefined;
        externalData = undefined;
        rows = undefined;
        const stages = q("stages", 0);
        if (stages > 0) {
          if (pendingStages.length !== stages) pendingStages = new Array(stages);
          pendingStages[q("stage", 0)] = created;
          const ready = pendingStages.filter(Boolean).length === stages;
          session = ready ? createStagedSession({ stages: pendingStages, label: key }) : undefined;
        } else {
          session = created;
        }
        if (tableKey && session) {
          rows = await createTokenEmbeddingRows({
            readRange: async (offset, length) => {
              const object = await env.MODELS.get(tableKey, { range: { offset, length } });
              if (!object) throw new Error(`no ${tableKey} in R2`);
              return new Uint8Array(await object.arrayBuffer());
            },
            label: tableKey,
            fileSize: q("tableBytes", 0),
            vocabSize: q("vocab", 0),
            width: q("width", 0),
            cacheRows: 0,
          });
        }
        return json({ r2ReadMs, bytes: size, wasmBytes: probe.bytes() ?? 0 });
      }
      if (url.pathname === "/run") {
        if (!session) return json({ error: "no session" }, 409);
        const tokens = q("tokens", 8);
        const seq = q("seq", tokens);
        const batch = q("batch", 1);
        const full = url.searchParams.get("fetch") === "full";
        const ids = promptIds(batch, tokens, seq);
        const feeds: Record<string, TensorLike> = {
          input_ids: runtime.tensor("int64", ids, [batch, seq]),
        };
        let gather: { ms: number; reads: number; bytes: number } | undefined;
        if (rows) {
          const before = { reads: rows.stats.rowReads, bytes: rows.stats.bytesRead };
          const t0 = Date.now();
          const data = await rows.lookup(ids);
          gather = {
            ms: Date.now() - t0,
            reads: rows.stats.rowReads - before.reads,
            bytes: rows.stats.bytesRead - before.bytes,
          };
          feeds.token_embeds = runtime.tensor("float32", data, [batch, seq, rows.width]);
        }
        const out = await session.run(feeds, full ? ["last_hidden_state"] : ["pooled"]);
        const first = Object.values(out)[0];
        return json({ dims: first.dims, wasmBytes: probe.bytes() ?? 0, gather });
      }
      return json({ error: "not found" }, 404);
    } catch (error) {
      return json({ error: (error as Error)?.message ?? String(error) }, 500);
    }
  },
};
