/**
 * Bench worker, run inside workerd by bench/workerd/workerd-bench.ts. It uses
 * the worker's own onnxruntime-web adapter (worker/runtime/ort-wasm.ts) and
 * keeps one session per isolate.
 *   PUT  /seed?key=K   body -> R2 MODELS/K
 *   POST /load?key=K   R2 read + session creation; reports R2 ms and WASM heap
 *   POST /run?tokens=N&seq=S&batch=B&fetch=pooled|full   one inference
 *   GET  /noop         round-trip baseline
 * workerd freezes timers during CPU work, so only I/O (the R2 read) is timed
 * inside; the driver times everything else from outside.
 */
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { promptIds } from "../scenarios/prompt-ids.ts";
import { installWasmMemoryProbe } from "../scenarios/wasm-memory-probe.ts";

interface Env {
  MODELS: R2Bucket;
}

const probe = installWasmMemoryProbe();
const runtime = createWorkerOrtRuntime();
let session: Awaited<ReturnType<typeof runtime.createSession>> | undefined;

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
        const t0 = Date.now();
        const object = await env.MODELS.get(key);
        if (!object) return json({ error: `no ${key} in R2` }, 404);
        let bytes: Uint8Array | undefined = new Uint8Array(await object.arrayBuffer());
        const r2ReadMs = Date.now() - t0;
        session = await runtime.createSession(bytes, key);
        const size = bytes.byteLength;
        bytes = undefined;
        return json({ r2ReadMs, bytes: size, wasmBytes: probe.bytes() ?? 0 });
      }
      if (url.pathname === "/run") {
        if (!session) return json({ error: "no session" }, 409);
        const tokens = q("tokens", 8);
        const seq = q("seq", tokens);
        const batch = q("batch", 1);
        const full = url.searchParams.get("fetch") === "full";
        const ids = promptIds(batch, tokens, seq);
        const out = await session.run(
          { input_ids: runtime.tensor("int64", ids, [batch, seq]) },
          full ? ["last_hidden_state"] : ["pooled"],
        );
        const first = Object.values(out)[0];
        return json({ dims: first.dims, wasmBytes: probe.bytes() ?? 0 });
      }
      return json({ error: "not found" }, 404);
    } catch (error) {
      return json({ error: (error as Error)?.message ?? String(error) }, 500);
    }
  },
};
