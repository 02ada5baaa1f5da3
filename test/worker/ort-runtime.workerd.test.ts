import { describe, expect, it } from "vitest";
import { createGraphBuilder } from "../../node/onnx/graph-builder.ts";
import { DataType, encodeModel } from "../../node/onnx/onnx-proto.ts";
import { concatEncoded } from "../../node/onnx/protobuf.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { TINY_B, TINY_W, tinyOnnxModel } from "./helpers/tiny-onnx.ts";

// onnxruntime-web initialises once per isolate: one runtime for the file, as in the worker.
const runtime = createWorkerOrtRuntime();

describe("onnxruntime-web in workerd", () => {
  it("creates a session from bytes and runs it with the precompiled wasm module", async () => {
    const session = await runtime.createSession(tinyOnnxModel(), "tiny");
    expect(session.inputNames).toEqual(["x"]);
    const x = new Float32Array([1, 2, -1, 0.5]);
    const out = await session.run({ x: runtime.tensor("float32", x, [2, 2]) });
    const z = out.z;
    expect(z.dims).toEqual([2, 3]);
    const expected: number[] = [];
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 3; c++)
        expected.push(x[r * 2] * TINY_W[c] + x[r * 2 + 1] * TINY_W[3 + c] + TINY_B[c]);
    expect(Array.from(z.data as Float32Array)).toEqual(expected.map(Math.fround));
  });

  it("grows the WASM heap tightly and reports it", async () => {
    expect(runtime.heap().heapGrowth).toBe("tight");
    // x [n, 4] @ w [4, 2^21] (32 MiB of weights) -> sum over columns: the heap must grow.
    const cols = 2 ** 21;
    const w = new Float32Array(4 * cols);
    for (let i = 0; i < w.length; i++) w[i] = ((i % 7) - 3) / 8;
    const g = createGraphBuilder("big");
    const x = g.input("x", DataType.FLOAT, ["n", 4]);
    const wi = g.initializer("w", DataType.FLOAT, [4, cols], w);
    const y = g.node("ReduceSum", [g.node("MatMul", [x, wi])], {}, { outputs: ["y"] });
    g.output(y, DataType.FLOAT, ["n", 1]);
    const bytes = concatEncoded(
      encodeModel(g.build({ producerName: "test", producerVersion: "0" })),
    );
    const before = runtime.heap();
    const session = await runtime.createSession(bytes, "big");
    const out = await session.run({
      x: runtime.tensor("float32", new Float32Array([1, 0, 0, 0]), [1, 4]),
    });
    let expected = 0;
    for (let c = 0; c < cols; c++) expected += w[c];
    expect((out.y.data as Float32Array)[0]).toBeCloseTo(expected, 0);
    const after = runtime.heap();
    expect(after.heapBytes).toBeGreaterThan(32 * 2 ** 20);
    expect(after.grown).toBeGreaterThan(before.grown);
  });
});
