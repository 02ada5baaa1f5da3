/**
 * Issue #14 part 3 inside workerd: the spike's int8 GEMM kernels and
 * onnxruntime-web's MatMulInteger (the worker's own adapter), driven by
 * bench/kernels/run-workerd.ts. Nothing here ships in the worker.
 *   POST /setup?shape=i   body: the one-node MatMulInteger graph for SHAPES[i];
 *                         prepares every kernel and checks it against the JS
 *                         reference; answers the checks and the relaxed-dot probes
 *   POST /run?kernel=K&iters=N   N calls of one kernel (timed from outside)
 *   GET  /noop            round-trip baseline
 * workerd's clocks only advance on I/O, so the driver times requests.
 */

import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import relaxedModule from "../.out/kernels/gemm-relaxed.wasm";
import relaxedI16Module from "../.out/kernels/gemm-relaxed-i16.wasm";
import simdModule from "../.out/kernels/gemm-simd.wasm";
import {
  type KernelName,
  type PreparedShape,
  prepareShape,
  SHAPES,
} from "../kernels/gemm-cases.ts";

const runtime = createWorkerOrtRuntime();
let prepared: PreparedShape | undefined;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/noop") return json({ ok: true });
      if (url.pathname === "/setup") {
        const s = SHAPES[Number(url.searchParams.get("shape"))];
        const modelBytes = new Uint8Array(await request.arrayBuffer());
        prepared = undefined;
        prepared = await prepareShape(
          s,
          1400 + SHAPES.indexOf(s),
          { simd: simdModule, relaxed: relaxedModule, relaxedI16: relaxedI16Module },
          { runtime, modelBytes },
        );
        return json({
          checks: prepared.checks,
          probes: prepared.probes,
          kernels: Object.keys(prepared.runs),
        });
      }
      if (url.pathname === "/run") {
        const run = prepared?.runs[url.searchParams.get("kernel") as KernelName];
        if (!run) return json({ error: "no such kernel prepared" }, 409);
        const iters = Number(url.searchParams.get("iters") ?? 1);
        for (let i = 0; i < iters; i++) await run.run();
        return json({ ok: true });
      }
      return json({ error: "not found" }, 404);
    } catch (error) {
      return json({ error: (error as Error)?.message ?? String(error) }, 500);
    }
  },
};
