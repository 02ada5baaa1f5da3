import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stageLoadOrder } from "../../conditioning/bundle/graph-files.ts";
import type { BenchResult } from "../harness.ts";
import { summarize } from "../harness.ts";
import { round, toMb } from "../scenarios/stats.ts";
import type { PreparedModel } from "../synthetic/model-cache.ts";
import { filePath } from "../synthetic/model-cache.ts";
import { startBenchWorker } from "./start-bench-worker.ts";

const CONFIG = fileURLToPath(new URL("./wrangler.toml", import.meta.url));

export interface WorkerdTextOptions {
  warmup: number;
  runs: number;
  tokens: number[];
  batches: number[];
  batchTokens: number;
  maxPositions: number;
}

/**
 * onnxruntime-web inside workerd (wrangler's local runtime), one fresh
 * isolate per prepared model: seeds R2, measures cold start (R2 read +
 * session creation) and per-request latency from outside, minus the median
 * round trip of a no-op request (`rtt_ms`, reported beside). External data
 * (`<graph>.data`) is seeded beside the graph and handed to the adapter; a
 * token table outside the graph stays in R2 and each request gathers its rows
 * by range reads (inside the reported latency; `gather_ms` is that I/O alone).
 */
export async function measureWorkerdText(
  prepared: PreparedModel,
  options: WorkerdTextOptions,
): Promise<BenchResult[]> {
  const persist = mkdtempSync(join(tmpdir(), "clip-edge-bench-r2-"));
  const worker = await startBenchWorker({ config: CONFIG, persist });
  const base = { model: prepared.model, variant: prepared.variant, runtime: "workerd" };
  const call = async (path: string, init?: Parameters<typeof worker.fetch>[1]) => {
    const res = await worker.fetch(`http://bench${path}`, init);
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`workerd ${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  try {
    const prefix = `${prepared.model}/${prepared.variant}`;
    const seed = async (file: string) => {
      const key = `${prefix}/${file}`;
      await call(`/seed?key=${encodeURIComponent(key)}`, {
        method: "PUT",
        body: readFileSync(filePath(prepared, file)),
      });
      return key;
    };
    // One /load per stage (largest first, as the worker loads them); one for an unstaged graph.
    const stages = prepared.stages ?? [
      {
        graph: prepared.graph,
        externalData: prepared.externalData,
        bytes: prepared.graphBytes,
        externalBytes: prepared.externalBytes,
      },
    ];
    const order = stageLoadOrder(
      stages.map((st) => ({ bytes: st.bytes, externalData: [{ bytes: st.externalBytes }] })),
    );
    const loads: URLSearchParams[] = [];
    for (const i of order) {
      const load = new URLSearchParams({ key: await seed(stages[i].graph) });
      const data = stages[i].externalData;
      if (data) load.set("data", await seed(data));
      if (prepared.stages) {
        load.set("stage", String(i));
        load.set("stages", String(stages.length));
      }
      loads.push(load);
    }
    const last = loads[loads.length - 1];
    if (prepared.embeddings) {
      const t = prepared.embeddings;
      last.set("table", await seed(t.file));
      last.set("tableBytes", String(t.bytes));
      last.set("vocab", String(t.vocabSize));
      last.set("width", String(t.width));
    }
    const t0 = performance.now();
    let r2ReadMs = 0;
    let loaded: Record<string, unknown> = {};
    for (const load of loads) {
      loaded = await call(`/load?${load}`, { method: "POST" });
      r2ReadMs += Number(loaded.r2ReadMs);
    }
    const coldMs = performance.now() - t0;
    // Let V8 tier the WASM code up before measuring (see text-encoder-child.ts).
    const P0 = options.maxPositions;
    for (let i = 0; i < 3; i++) {
      await call(`/run?tokens=${P0}&seq=${P0}&fetch=full`, { method: "POST" });
    }
    const noop: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await call("/noop");
      noop.push(performance.now() - t);
    }
    const rtt = summarize(noop).median_ms;
    let wasmBytes = Number(loaded.wasmBytes);
    const time = async (query: string) => {
      for (let i = 0; i < options.warmup; i++) await call(`/run?${query}`, { method: "POST" });
      const samples: number[] = [];
      const gatherMs: number[] = [];
      let gatherReads = 0;
      for (let i = 0; i < options.runs; i++) {
        const t = performance.now();
        const out = await call(`/run?${query}`, { method: "POST" });
        samples.push(performance.now() - t - rtt);
        wasmBytes = Math.max(wasmBytes, Number(out.wasmBytes));
        const gather = out.gather as { ms: number; reads: number } | undefined;
        if (gather) {
          gatherMs.push(gather.ms);
          gatherReads = gather.reads;
        }
      }
      const s = summarize(samples);
      return {
        median_ms: round(s.median_ms),
        p95_ms: round(s.p95_ms),
        runs: s.runs,
        rtt_ms: round(rtt),
        ...(gatherMs.length
          ? { gather_ms: round(summarize(gatherMs).median_ms), gather_reads: gatherReads }
          : {}),
      };
    };
    const records: BenchResult[] = [];
    const P = options.maxPositions;
    for (const tokens of options.tokens) {
      records.push({
        scenario: "text-pooled",
        tokens,
        seq: tokens,
        ...base,
        ...(await time(`tokens=${tokens}`)),
      });
    }
    const small = Math.min(...options.tokens);
    records.push({
      scenario: "text-pooled-padded",
      tokens: small,
      seq: P,
      ...base,
      ...(await time(`tokens=${small}&seq=${P}`)),
    });
    records.push({
      scenario: "text-full",
      tokens: P,
      seq: P,
      ...base,
      ...(await time(`tokens=${P}&seq=${P}&fetch=full`)),
    });
    for (const batch of options.batches) {
      const n = options.batchTokens;
      const t = await time(`tokens=${n}&batch=${batch}`);
      records.push({
        scenario: "text-batch",
        batch,
        tokens: n,
        ...base,
        ...t,
        throughput: round((batch * 1000) / t.median_ms, 1),
        unit: "prompts/s",
      });
    }
    const cold: BenchResult = {
      scenario: "cold-start",
      ...base,
      median_ms: round(coldMs),
      p95_ms: round(coldMs),
      runs: 1,
      r2_read_ms: r2ReadMs,
      create_ms: round(coldMs - r2ReadMs - rtt * loads.length),
      wasm_after_load_mb: toMb(Number(loaded.wasmBytes)),
    };
    return [cold, ...records].map((r) => ({ ...r, peak_wasm_mb: toMb(wasmBytes) }));
  } finally {
    await worker.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}
