/**
 * Child process of the text-encoder scenario: one runtime, one prepared model,
 * a fresh process (onnxruntime-web's WASM heap never shrinks, so memory is
 * only attributable per process). Prints one JSON record per line.
 * Run as: node --expose-gc --import tsx bench/scenarios/text-encoder-child.ts '<json>'
 */

import { closeSync, openSync, readSync } from "node:fs";
import { createTokenEmbeddingRows } from "../../conditioning/encoder/token-embedding-rows.ts";
import { withTokenEmbeds } from "../../conditioning/encoder/token-embeds-session.ts";
import { installTightHeapGrowth } from "../../conditioning/memory/heap-growth.ts";
import { installWasmMemoryProbe } from "../../conditioning/memory/wasm-memory-probe.ts";
import type { BenchResult } from "../harness.ts";
import { summarize } from "../harness.ts";
import type { PreparedModel } from "../synthetic/model-cache.ts";
import { filePath } from "../synthetic/model-cache.ts";
import { type BenchRuntime, loadSession, type SessionConfig } from "./bench-runtimes.ts";
import { promptIds } from "./prompt-ids.ts";
import { round, toMb } from "./stats.ts";

export interface TextChildArgs {
  runtime: BenchRuntime;
  prepared: PreparedModel;
  /** Label of the session config (lever experiments), "default" otherwise. */
  config: string;
  session: SessionConfig;
  warmup: number;
  runs: number;
  tokens: number[];
  batches: number[];
  batchTokens: number;
  maxPositions: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function jsBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function main(args: TextChildArgs): Promise<void> {
  const records: BenchResult[] = [];
  const emit = (r: Omit<BenchResult, "model" | "variant" | "runtime">) =>
    records.push(<BenchResult>{
      ...r,
      model: args.prepared.model,
      variant: args.prepared.variant,
      runtime: args.runtime,
      ...(args.config !== "default" ? { config: args.config } : {}),
    });
  const wasm = args.runtime !== "native";
  gc();
  const base = { js: jsBytes(), rss: process.memoryUsage().rss };
  const tight = args.session.heapGrowth === "tight";
  const probe = wasm
    ? installWasmMemoryProbe(WebAssembly, tight ? (m) => installTightHeapGrowth(m) : undefined)
    : undefined;
  let loadPeak = 0;
  const sampleLoad = () => {
    loadPeak = Math.max(loadPeak, jsBytes() - base.js + (probe?.bytes() ?? 0));
  };
  const loaded = await loadSession(args.runtime, args.prepared, {
    ...args.session,
    onExternalRead: sampleLoad,
    onStageCreated: sampleLoad,
  });
  probe?.uninstall();
  gc();
  const afterLoad = { js: jsBytes() - base.js, wasm: probe?.bytes() ?? 0 };
  if (args.session.releaseBytes ?? true) loaded.dropBytes();
  // A collected ArrayBuffer's backing store is freed after a turn of the event loop.
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  const afterRelease = jsBytes() - base.js;
  let peakJs = afterRelease;
  let peakRss = process.memoryUsage().rss - base.rss;
  // After each timed run (outside the timing): a collected ArrayBuffer's backing store
  // is freed only after a turn of the event loop, so garbage outputs (staged graphs
  // hand hidden states through JS) would otherwise count as live.
  const sample = async () => {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    peakJs = Math.max(peakJs, jsBytes() - base.js);
    peakRss = Math.max(peakRss, process.memoryUsage().rss - base.rss);
  };

  // A table outside the graph: rows read from the file by range on every run (no
  // LRU: the cold cost), through the worker's own reader and session wrapper.
  const table = args.prepared.embeddings;
  const fd = table ? openSync(filePath(args.prepared, table.file), "r") : undefined;
  const session = table
    ? withTokenEmbeds(
        loaded.session,
        await createTokenEmbeddingRows({
          readRange: async (offset, length) => {
            const bytes = new Uint8Array(length);
            readSync(fd!, bytes, 0, length, offset);
            return bytes;
          },
          label: table.file,
          fileSize: table.bytes,
          vocabSize: table.vocabSize,
          width: table.width,
          cacheRows: 0,
        }),
        loaded.session.tensor,
      )
    : loaded.session;
  const encode = (ids: BigInt64Array, dims: number[], fetches: string[]) =>
    session.run({ input_ids: session.tensor("int64", ids, dims) }, fetches);
  const time = async (ids: BigInt64Array, dims: number[], fetches: string[]) => {
    for (let i = 0; i < args.warmup; i++) await encode(ids, dims, fetches);
    const samples: number[] = [];
    for (let i = 0; i < args.runs; i++) {
      const t0 = performance.now();
      const out = await encode(ids, dims, fetches);
      samples.push(performance.now() - t0);
      await sample();
      if (!out) throw new Error("no output");
    }
    const s = summarize(samples);
    return { median_ms: round(s.median_ms), p95_ms: round(s.p95_ms), runs: s.runs };
  };
  const pooled = [
    "pooled",
    ...(session.outputNames.includes("text_embeds") ? ["text_embeds"] : []),
  ];
  const P = args.maxPositions;
  // V8 compiles WASM with its baseline tier first and tiers hot functions up in
  // the background: run the largest shape a few times before measuring anything.
  for (let i = 0; i < 3; i++) await encode(promptIds(1, P, P), [1, P], ["last_hidden_state"]);
  for (const tokens of args.tokens) {
    const t = await time(promptIds(1, tokens, tokens), [1, tokens], pooled);
    emit({ scenario: "text-pooled", tokens, seq: tokens, ...t });
  }
  const small = Math.min(...args.tokens);
  const padded = await time(promptIds(1, small, P), [1, P], pooled);
  emit({ scenario: "text-pooled-padded", tokens: small, seq: P, ...padded });
  const full = await time(promptIds(1, P, P), [1, P], ["last_hidden_state"]);
  emit({ scenario: "text-full", tokens: P, seq: P, ...full });
  for (const batch of args.batches) {
    const n = args.batchTokens;
    const t = await time(promptIds(batch, n, n), [batch, n], pooled);
    emit({
      scenario: "text-batch",
      batch,
      tokens: n,
      ...t,
      throughput: round((batch * 1000) / t.median_ms, 1),
      unit: "prompts/s",
    });
  }
  if (fd !== undefined) closeSync(fd);
  await sample();
  const peakWasm = probe?.bytes() ?? 0;
  const modelBytes =
    args.prepared.graphBytes + args.prepared.externalBytes + args.prepared.embeddingBytes;
  const peaks = wasm
    ? {
        peak_wasm_mb: toMb(peakWasm),
        // The JS copy of the model is alive while the session is created.
        peak_js_mb: toMb(Math.max(peakJs, afterLoad.js)),
        // Sampled during creation where external data is read through ReleasingBytes,
        // otherwise bounded by the JS copy + WASM heap after creation.
        peak_total_mb: toMb(
          Math.max(peakWasm + peakJs, loadPeak > 0 ? loadPeak : afterLoad.wasm + afterLoad.js),
        ),
        ...(loadPeak > 0 ? { load_peak_sampled_mb: toMb(loadPeak) } : {}),
        // Loaded and running, after the JS model copy is released.
        steady_total_mb: toMb(peakWasm + peakJs),
      }
    : { peak_rss_delta_mb: toMb(peakRss) };
  records.unshift({
    scenario: "cold-start",
    model: args.prepared.model,
    variant: args.prepared.variant,
    runtime: args.runtime,
    ...(args.config !== "default" ? { config: args.config } : {}),
    median_ms: round(loaded.readMs + loaded.createMs),
    p95_ms: round(loaded.readMs + loaded.createMs),
    runs: 1,
    read_ms: round(loaded.readMs),
    create_ms: round(loaded.createMs),
    model_mb: toMb(modelBytes),
    ...(wasm
      ? {
          wasm_after_load_mb: toMb(afterLoad.wasm),
          js_after_load_mb: toMb(afterLoad.js),
          js_after_release_mb: toMb(afterRelease),
        }
      : {}),
  });
  for (const r of records) process.stdout.write(`${JSON.stringify({ ...r, ...peaks })}\n`);
  await session.release();
}

main(JSON.parse(process.argv[2]) as TextChildArgs).catch((error) => {
  process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
  process.exit(1);
});
