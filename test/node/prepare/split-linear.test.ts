import { describe, expect, it } from "vitest";
import { createGraphBuilder } from "../../../node/onnx/graph-builder.ts";
import { DataType } from "../../../node/onnx/onnx-proto.ts";
import {
  fp32Linear,
  int8Linear,
  type LinearEmitter,
} from "../../../node/prepare/linear-emitters.ts";
import { int8RowError } from "../../../node/prepare/linear-sensitivity.ts";
import { openMeasurementSession } from "../../../node/prepare/reference-session.ts";
import { largestChannels, splitInt8Linear } from "../../../node/prepare/split-linear.ts";
import type { LinearParams } from "../../../node/prepare/tower-weights.ts";

const K = 48;
const N = 16;
const ROWS = 6;
let s = 99;
const rand = () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 2 ** 32 - 0.5;
};
const p: LinearParams = {
  weight: Float32Array.from({ length: N * K }, rand),
  bias: Float32Array.from({ length: N }, rand),
  outFeatures: N,
  inFeatures: K,
};
const OUTLIERS = [5, 30];
// Rows with two outlier channels ~40x the rest, as fc2 inputs with hot MLP units have.
const x = Float32Array.from({ length: ROWS * K }, (_, i) =>
  OUTLIERS.includes(i % K) ? 20 + rand() : rand(),
);

async function run(linear: LinearEmitter): Promise<Float32Array> {
  const g = createGraphBuilder("one_linear");
  const input = g.input("x", DataType.FLOAT, [ROWS, K]);
  g.node("Identity", [linear(g, input, p, "lin")], {}, { outputs: ["y"] });
  g.output("y", DataType.FLOAT, [ROWS, N]);
  const session = await openMeasurementSession(
    g.build({ producerName: "test", producerVersion: "0" }),
    "one linear",
  );
  const out = await session.run({ x: session.tensor("float32", x, [ROWS, K]) }, ["y"]);
  await session.release();
  return out.y.data as Float32Array;
}

describe("outlier-channel split", () => {
  it("finds the outlier channels", () => {
    const actMax = new Float32Array(K);
    for (let i = 0; i < x.length; i++) actMax[i % K] = Math.max(actMax[i % K], Math.abs(x[i]));
    expect(largestChannels(actMax, OUTLIERS.length)).toEqual([...OUTLIERS].sort((a, b) => a - b));
  });

  it("is exact in fp32 and beats plain per-token int8 on outlier rows", async () => {
    const ref = await run(fp32Linear);
    const splitFp32 = await run(splitInt8Linear(OUTLIERS, fp32Linear));
    const splitInt8 = await run(splitInt8Linear(OUTLIERS));
    const plain = await run(int8Linear);
    const maxDiff = (a: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - ref[i])));
    expect(maxDiff(splitFp32)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(splitInt8)).toBeLessThan(maxDiff(plain) / 4);
    // The JS estimate agrees on the ranking.
    expect(int8RowError(x, ROWS, p, undefined, OUTLIERS)).toBeLessThan(
      int8RowError(x, ROWS, p) / 4,
    );
  });
});
