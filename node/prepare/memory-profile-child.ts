/**
 * Child process of `prepare`'s memory profile (memory-profile.ts): a fresh Node
 * process, so onnxruntime-web's WASM heap holds nothing but this graph. Starts
 * the runtime with a one-node graph (heap = runtime), loads the bundle's text
 * graph as the worker does (every stage, no CPU arena, tight heap growth), runs
 * `rows` x `tokens` once and prints one JSON line: the heap after each step.
 * Run as: node --import tsx node/prepare/memory-profile-child.ts '<json>'
 */
import * as ort from "onnxruntime-web";
import { installTightHeapGrowth } from "../../conditioning/memory/heap-growth.ts";
import { installWasmMemoryProbe } from "../../conditioning/memory/wasm-memory-probe.ts";
import { createGraphBuilder } from "../onnx/graph-builder.ts";
import { DataType, encodeModel } from "../onnx/onnx-proto.ts";
import { concatEncoded } from "../onnx/protobuf.ts";
import { openBundleGraphWeb } from "../runtime/bundle-session.ts";
import { loadBundle } from "../runtime/load-bundle.ts";
import { createOrtWebSession } from "../runtime/ort-web-session.ts";

export interface MemoryProbeArgs {
  dir: string;
  rows: number;
  tokens: number;
}

export interface MemoryProbeResult {
  runtime: string;
  runtimeBytes: number;
  loadedBytes: number;
  ranBytes: number;
}

const SESSION = { enableCpuMemArena: false, graphOptimizationLevel: "all" as const };

function identityGraph(): Uint8Array {
  const g = createGraphBuilder("runtime_start");
  const x = g.input("x", DataType.FLOAT, [1]);
  g.output(g.node("Identity", [x]), DataType.FLOAT, [1]);
  return concatEncoded(encodeModel(g.build({ producerName: "clip-edge", producerVersion: "0" })));
}

async function main(args: MemoryProbeArgs): Promise<void> {
  const probe = installWasmMemoryProbe(WebAssembly, (m) => installTightHeapGrowth(m));
  await createOrtWebSession(identityGraph(), { ...SESSION, label: "runtime start" });
  const runtimeBytes = probe.bytes()!;
  const bundle = loadBundle(args.dir, { verifyHashes: false });
  const session = await openBundleGraphWeb(bundle, "text", SESSION);
  const loadedBytes = probe.bytes()!;
  // Spread ids, the largest (EOT in CLIP's vocabulary) last in every row.
  const vocab = bundle.manifest.architecture.text?.vocabSize ?? 49408;
  const ids = BigInt64Array.from({ length: args.rows * args.tokens }, (_, i) =>
    BigInt(i % args.tokens === args.tokens - 1 ? vocab - 1 : 1 + ((i * 7919) % (vocab - 2))),
  );
  await session.run({ input_ids: session.tensor("int64", ids, [args.rows, args.tokens]) });
  const result: MemoryProbeResult = {
    runtime: `onnxruntime-web ${ort.env.versions.web} wasm, 1 thread, tight heap growth`,
    runtimeBytes,
    loadedBytes,
    ranBytes: probe.bytes()!,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main(JSON.parse(process.argv[2]) as MemoryProbeArgs);
