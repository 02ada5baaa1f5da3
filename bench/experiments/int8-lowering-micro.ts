/**
 * Micro-comparison of int8 Linear lowerings in onnxruntime-web (WASM, 1 thread, Node)
 * on CLIP-L shapes (issue #11): per-tensor DynamicQuantizeLinear (the old lowering)
 * vs per-token formulations. Each graph is one Linear; every per-token variant must
 * give the same floats as the production `int8Linear` (checked and printed).
 *
 *   npx tsx bench/experiments/int8-lowering-micro.ts [runs] [batch] [tokens]
 */
import { createGraphBuilder } from "../../node/onnx/graph-builder.ts";
import { DataType, encodeModel } from "../../node/onnx/onnx-proto.ts";
import { concatEncoded } from "../../node/onnx/protobuf.ts";
import {
  int8Linear,
  int8PerTensorLinear,
  type LinearEmitter,
} from "../../node/prepare/linear-emitters.ts";
import { createOrtWebSession } from "../../node/runtime/ort-web-session.ts";
import { gaussian } from "../../node/synthetic/gaussian.ts";
import { summarize } from "../harness.ts";
import { createInt8DivLinear, int8Div2dLinear } from "./int8-lowerings.ts";

export const LOWERINGS: Record<string, LinearEmitter> = {
  "per-tensor (DynamicQuantizeLinear)": int8PerTensorLinear,
  "per-token QuantizeLinear axis 0 (int8Linear)": int8Linear,
  "per-token Div/Round/Add/Cast": createInt8DivLinear(),
  "per-token Div, one outer-product Mul": createInt8DivLinear({ outer: true }),
  "per-token Div, ReduceMax/ReduceMin (no Abs)": createInt8DivLinear({ amax: "minmax" }),
  "per-token Div, 2-D MatMulInteger": int8Div2dLinear,
};

const SHAPES = [
  { label: "qkv", k: 768, n: 2304 },
  { label: "fc1", k: 768, n: 3072 },
  { label: "fc2", k: 3072, n: 768 },
];

async function session(emit: LinearEmitter, k: number, n: number, weight: Float32Array) {
  const g = createGraphBuilder("lin");
  const x = g.input("x", DataType.FLOAT, ["b", "s", k]);
  const y = emit(g, x, { weight, bias: new Float32Array(n), outFeatures: n, inFeatures: k }, "l");
  g.node("Identity", [y], {}, { outputs: ["y"] });
  g.output("y", DataType.FLOAT, ["b", "s", n]);
  const model = g.build({ producerName: "micro", producerVersion: "0" });
  return createOrtWebSession(concatEncoded(encodeModel(model)));
}

async function main(runs: number, batch: number, seq: number) {
  console.log(
    `onnxruntime-web WASM, 1 thread; input [${batch},${seq},K]; median of ${runs} runs (ms)`,
  );
  for (const { label, k, n } of SHAPES) {
    const weight = gaussian(n * k, 1, 0.02);
    const xData = gaussian(batch * seq * k, 2, 1);
    for (let c = 0; c < k; c += 97) xData[c] *= 40; // a few outliers in the first row
    // Round-robin over the lowerings so load on the machine hits them alike.
    const entries = Object.entries(LOWERINGS);
    const sessions = await Promise.all(entries.map(([, emit]) => session(emit, k, n, weight)));
    const runs1 = sessions.map((s) => {
      const feeds = { x: s.tensor("float32", xData, [batch, seq, k]) };
      return async () => (await s.run(feeds)).y.data as Float32Array;
    });
    const outs = [];
    for (const run of runs1) for (let i = 0; i < 3; i++) outs.push(await run());
    const samples: number[][] = entries.map(() => []);
    for (let r = 0; r < runs; r++)
      for (const [i, run] of runs1.entries()) {
        const t = performance.now();
        await run();
        samples[i].push(performance.now() - t);
      }
    const reference = await runs1[1]();
    for (const [i, [name]] of entries.entries()) {
      const out = await runs1[i]();
      let diff = 0;
      for (let j = 0; j < out.length; j++) diff = Math.max(diff, Math.abs(out[j] - reference[j]));
      const t = summarize(samples[i]);
      console.log(
        `${label} [${k}x${n}]  ${name.padEnd(46)} median ${t.median_ms.toFixed(2)}  min ${t.min_ms.toFixed(2)}  max|diff vs int8Linear| ${i === 0 ? "-" : diff}`,
      );
    }
    for (const s of sessions) await s.release();
  }
}

await main(
  Number(process.argv[2]) || 30,
  Number(process.argv[3]) || 1,
  Number(process.argv[4]) || 77,
);
