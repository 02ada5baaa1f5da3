import { describe, expect, it } from "vitest";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { TINY_B, TINY_W, tinyOnnxModel } from "./helpers/tiny-onnx.ts";

describe("onnxruntime-web in workerd", () => {
  it("creates a session from bytes and runs it with the precompiled wasm module", async () => {
    const runtime = createWorkerOrtRuntime();
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
});
