import { describe, expect, it } from "vitest";
import { createGraphBuilder } from "../../../node/onnx/graph-builder.ts";
import { DataType, encodeModel } from "../../../node/onnx/onnx-proto.ts";
import { concatEncoded } from "../../../node/onnx/protobuf.ts";
import { int8Linear, type LinearEmitter } from "../../../node/prepare/linear-emitters.ts";
import { quantizeInt8PerColumn } from "../../../node/prepare/quantize-weights.ts";
import { int8ResidualLinear } from "../../../node/prepare/residual-linear.ts";
import { createOrtWebSession } from "../../../node/runtime/ort-web-session.ts";
import { gaussian } from "../../../node/synthetic/gaussian.ts";

/** y = x @ W^T (+ b), rows of x of rank 3 [b, t, k] flattened. */
async function runLinear(emit: LinearEmitter, w: Float32Array, dims: number[], x: Float32Array) {
  const [b, t, k] = dims;
  const n = w.length / k;
  const bias = gaussian(n, 9, 0.1);
  const g = createGraphBuilder("lin");
  const input = g.input("x", DataType.FLOAT, [b, t, k]);
  const y = emit(g, input, { weight: w, bias, outFeatures: n, inFeatures: k }, "lin");
  g.node("Identity", [y], {}, { outputs: ["y"] });
  g.output("y", DataType.FLOAT, [b, t, n]);
  const s = await createOrtWebSession(
    concatEncoded(encodeModel(g.build({ producerName: "t", producerVersion: "0" }))),
  );
  const out = await s.run({ x: s.tensor("float32", x, dims) });
  await s.release();
  return { y: out.y.data as Float32Array, bias };
}

describe("int8-residual: per-token int8 with a second pass over the rounding residual", () => {
  const k = 96;
  const n = 40;
  const dims = [2, 3, k];
  const rows = dims[0] * dims[1];
  const weight = gaussian(n * k, 1, 0.1);
  // Row 0 has a few outlier channels 60x the rest (what crushes one-pass per-token int8).
  const x = gaussian(rows * k, 2).map((v, i) => (i < k && i % 31 === 0 ? v * 60 : v));
  const q = quantizeInt8PerColumn(weight, n, k);
  const deq = new Float32Array(n * k); // [n, k]
  for (let j = 0; j < n; j++)
    for (let t = 0; t < k; t++) deq[j * k + t] = q.data[t * n + j] * q.scales[j];

  it("computes the dequantised weights' product to the residual's step (~1/254 of int8's)", async () => {
    const { y: got, bias } = await runLinear(int8ResidualLinear, weight, dims, x);
    const { y: oneStep } = await runLinear(int8Linear, weight, dims, x);
    let worstResidual = 0;
    let worstInt8 = 0;
    for (let i = 0; i < rows; i++) {
      const row = x.subarray(i * k, (i + 1) * k);
      // The two steps as the graph computes them (QuantizeLinear rounds half to even).
      const s1 = Math.max(...Array.from(row, Math.abs)) / 127;
      const r = Array.from(row, (v) => v - Math.max(-128, Math.min(127, Math.round(v / s1))) * s1);
      const s2 = Math.max(...r.map(Math.abs)) / 127;
      expect(s2).toBeLessThanOrEqual(s1 / 254 + 1e-12);
      for (let j = 0; j < n; j++) {
        let ref = bias[j];
        let l1 = 0;
        for (let t = 0; t < k; t++) {
          ref += row[t] * deq[j * k + t];
          l1 += Math.abs(deq[j * k + t]);
        }
        const err = Math.abs(got[i * n + j] - ref);
        // each element off by <= s2 / 2 after the second pass, plus float rounding
        expect(err, `row ${i} col ${j}`).toBeLessThanOrEqual(
          (s2 / 2) * l1 + 1e-5 * (1 + Math.abs(ref)),
        );
        worstResidual = Math.max(worstResidual, err);
        worstInt8 = Math.max(worstInt8, Math.abs(oneStep[i * n + j] - ref));
      }
    }
    expect(worstResidual).toBeLessThan(worstInt8 / 20);
  });

  it("a row's result does not depend on the other rows (batch-independent)", async () => {
    const { y: alone } = await runLinear(
      int8ResidualLinear,
      weight,
      [1, 1, k],
      x.slice(4 * k, 5 * k),
    );
    for (const factor of [1, 1000]) {
      const xs = x.map((v, i) => (Math.floor(i / k) === 4 ? v : v * factor));
      const { y } = await runLinear(int8ResidualLinear, weight, dims, xs);
      let diff = 0;
      for (let j = 0; j < n; j++) diff = Math.max(diff, Math.abs(y[4 * n + j] - alone[j]));
      expect(diff, `others x${factor}`).toBeLessThanOrEqual(1e-6);
    }
  });

  it("an all-zero row gives the bias, not NaN", async () => {
    const xs = x.map((v, i) => (Math.floor(i / k) === 1 ? 0 : v));
    const { y, bias } = await runLinear(int8ResidualLinear, weight, dims, xs);
    expect(Array.from(y.subarray(n, 2 * n))).toEqual(Array.from(bias));
  });
});
