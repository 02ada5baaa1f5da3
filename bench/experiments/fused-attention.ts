/**
 * Attention core of one CLIP-L text layer (width 768, 12 heads) in onnxruntime-web
 * (WASM, 1 thread, Node), issue #14: the decomposed ops that `encoderLayer` emits
 * (`attentionCore`: Split, Reshape/Transpose x3, MatMul, Add mask, Softmax, MatMul,
 * Transpose, Reshape) vs one com.microsoft MultiHeadAttention node on the same Split
 * outputs. Input: the fused qkv Linear output [B, S, 2304] (q pre-scaled, so scale=1)
 * and the additive causal mask [1, 1, S, S]; output: merged context [B, S, 768].
 *
 *   npx tsx bench/experiments/fused-attention.ts [runs]
 */
import { execFileSync } from "node:child_process";
import { attr, createGraphBuilder, type GraphBuilder } from "../../node/onnx/graph-builder.ts";
import { DataType, encodeModel } from "../../node/onnx/onnx-proto.ts";
import { concatEncoded } from "../../node/onnx/protobuf.ts";
import { attentionCore } from "../../node/prepare/encoder-layer.ts";
import { MASK_VALUE } from "../../node/prepare/text-graph.ts";
import { createOrtWebSession } from "../../node/runtime/ort-web-session.ts";
import { gaussian } from "../../node/synthetic/gaussian.ts";
import { summarize } from "../harness.ts";

const WIDTH = 768;
const HEADS = 12;
const SHAPES = [
  { batch: 1, seq: 8 },
  { batch: 1, seq: 25 },
  { batch: 1, seq: 77 },
  { batch: 2, seq: 77 },
];

type Core = (g: GraphBuilder, qkv: string, mask: string) => string;

const decomposed: Core = (g, qkv, mask) =>
  attentionCore(g, qkv, { width: WIDTH, heads: HEADS, mask }, "attn");

/** q, k, v [B, S, W] out of the fused qkv Linear's output, as encoderLayer splits it. */
function splitQkv(g: Parameters<Core>[0], qkv: string): string[] {
  return g.nodeMulti(
    "Split",
    [qkv, g.constant("int64", [WIDTH, WIDTH, WIDTH])],
    { axis: attr.int(-1) },
    { outputs: 3, name: "attn_qkv_split" },
  );
}

/** com.microsoft MultiHeadAttention: query, key, value, bias, key_padding_mask, attention_bias. */
const fused: Core = (g, qkv, mask) => {
  const [q, k, v] = splitQkv(g, qkv);
  return g.node(
    "MultiHeadAttention",
    [q, k, v, "", "", mask],
    { num_heads: attr.int(HEADS), scale: attr.float(1) },
    { domain: "com.microsoft", name: "attn_mha" },
  );
};

/** The same node with `unidirectional=1` (causal inside the kernel) and no attention_bias. */
const fusedCausal: Core = (g, qkv) => {
  const [q, k, v] = splitQkv(g, qkv);
  return g.node(
    "MultiHeadAttention",
    [q, k, v],
    { num_heads: attr.int(HEADS), scale: attr.float(1), unidirectional: attr.int(1) },
    { domain: "com.microsoft", name: "attn_mha" },
  );
};

/** The first entry is the baseline the others are compared with. */
const VARIANTS: Record<string, Core> = {
  decomposed,
  "fused MHA (attention_bias)": fused,
  "fused MHA (unidirectional=1)": fusedCausal,
};

/** Same values as text-graph's causal table: 0 on/below the diagonal, MASK_VALUE above. */
function causalMask(seq: number): Float32Array {
  const m = new Float32Array(seq * seq);
  for (let r = 0; r < seq; r++) for (let c = r + 1; c < seq; c++) m[r * seq + c] = MASK_VALUE;
  return m;
}

/** Plain-JS float64 reference of the attention core, to check both graphs against. */
function reference(
  qkv: Float32Array,
  mask: Float32Array,
  batch: number,
  seq: number,
): Float64Array {
  const d = WIDTH / HEADS;
  const out = new Float64Array(batch * seq * WIDTH);
  const at = (b: number, t: number, part: number, h: number, j: number) =>
    qkv[(b * seq + t) * 3 * WIDTH + part * WIDTH + h * d + j];
  const p = new Float64Array(seq);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < HEADS; h++)
      for (let t = 0; t < seq; t++) {
        let max = Number.NEGATIVE_INFINITY;
        for (let u = 0; u < seq; u++) {
          let dot = mask[t * seq + u];
          for (let j = 0; j < d; j++) dot += at(b, t, 0, h, j) * at(b, u, 1, h, j);
          p[u] = dot;
          max = Math.max(max, dot);
        }
        let sum = 0;
        for (let u = 0; u < seq; u++) sum += p[u] = Math.exp(p[u] - max);
        for (let j = 0; j < d; j++) {
          let acc = 0;
          for (let u = 0; u < seq; u++) acc += p[u] * at(b, u, 2, h, j);
          out[(b * seq + t) * WIDTH + h * d + j] = acc / sum;
        }
      }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  for (let j = 0; j < a.length; j++) diff = Math.max(diff, Math.abs(a[j] - b[j]));
  return diff;
}

async function session(core: Core) {
  const g = createGraphBuilder("attn");
  const qkv = g.input("qkv", DataType.FLOAT, ["b", "s", 3 * WIDTH]);
  const mask = g.input("mask", DataType.FLOAT, [1, 1, "s", "s"]);
  g.node("Identity", [core(g, qkv, mask)], {}, { outputs: ["y"] });
  g.output("y", DataType.FLOAT, ["b", "s", WIDTH]);
  const model = g.build({ producerName: "fused-attention", producerVersion: "0" });
  return createOrtWebSession(concatEncoded(encodeModel(model)));
}

async function main(runs: number) {
  console.log(`onnxruntime-web WASM, 1 thread; attention core W=${WIDTH}, ${HEADS} heads`);
  console.log(`uptime before: ${execFileSync("uptime").toString().trim()}`);
  const names: string[] = [];
  const sessions: Awaited<ReturnType<typeof session>>[] = [];
  for (const [name, core] of Object.entries(VARIANTS)) {
    try {
      sessions.push(await session(core));
      names.push(name);
    } catch (error) {
      console.log(`${name}: session creation failed: ${(error as Error).message}`);
    }
  }
  if (names[0] !== "decomposed" || names.length < 2) return;
  const rows: string[] = [];
  for (const { batch, seq } of SHAPES) {
    const qkvData = gaussian(batch * seq * 3 * WIDTH, 7 + seq + batch, 1);
    const maskData = causalMask(seq);
    const runners = sessions.map((s) => {
      const feeds: Record<string, unknown> = {
        qkv: s.tensor("float32", qkvData, [batch, seq, 3 * WIDTH]),
      };
      if (s.inputNames.includes("mask"))
        feeds.mask = s.tensor("float32", maskData, [1, 1, seq, seq]);
      return async () => (await s.run(feeds as never)).y.data as Float32Array;
    });
    const outs: Float32Array[] = [];
    for (const run of runners) {
      for (let i = 0; i < 3; i++) await run(); // warm-up
      outs.push(await run());
    }
    const ref = reference(qkvData, maskData, batch, seq);
    // Round-robin, so load on the machine hits every variant alike.
    const samples: number[][] = names.map(() => []);
    for (let r = 0; r < runs; r++)
      for (const [i, run] of runners.entries()) {
        const t = performance.now();
        await run();
        samples[i].push(performance.now() - t);
      }
    const medians = samples.map((s) => summarize(s).median_ms);
    for (const [i, name] of names.entries()) {
      const row = [
        batch,
        seq,
        name,
        medians[i].toFixed(3),
        (medians[i] / medians[0]).toFixed(2),
        i === 0 ? "-" : maxAbsDiff(outs[i], outs[0]).toExponential(1),
        maxAbsDiff(outs[i], ref).toExponential(1),
      ];
      rows.push(`| ${row.join(" | ")} |`);
      console.log(rows[rows.length - 1]);
    }
  }
  for (const s of sessions) await s.release();
  console.log(`uptime after: ${execFileSync("uptime").toString().trim()}`);
  console.log(`\nmedian of ${runs} round-robin runs (ms)`);
  console.log(
    "| B | S | variant | median ms | / decomposed | max abs diff vs decomposed | vs JS float64 |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
}

await main(Number(process.argv[2]) || 60);
