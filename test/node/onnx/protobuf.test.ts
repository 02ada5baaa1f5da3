import { describe, expect, it } from "vitest";
import { attr, createGraphBuilder } from "../../../node/onnx/graph-builder.ts";
import { DataType, encodeModel } from "../../../node/onnx/onnx-proto.ts";
import { concatEncoded, MessageWriter, varintBytes } from "../../../node/onnx/protobuf.ts";
import { createOrtWebSession } from "../../../node/runtime/ort-web-session.ts";

describe("protobuf writer", () => {
  it("encodes varints as protobuf does (incl. negative int64 as 10 bytes)", () => {
    expect(Array.from(varintBytes(0))).toEqual([0]);
    expect(Array.from(varintBytes(1))).toEqual([1]);
    expect(Array.from(varintBytes(300))).toEqual([0xac, 0x02]);
    expect(Array.from(varintBytes(-1))).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
    expect(varintBytes(2n ** 40n).length).toBe(6);
  });

  it("writes fields with tags and keeps large payloads by reference", () => {
    const big = new Uint8Array(1000).fill(7);
    const msg = new MessageWriter().varint(1, 150).string(2, "hi").bytes(3, big).finish();
    expect(msg.chunks).toContain(big);
    const bytes = concatEncoded(msg);
    expect(Array.from(bytes.subarray(0, 7))).toEqual([0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69]);
    expect(Array.from(bytes.subarray(7, 10))).toEqual([0x1a, 0xe8, 0x07]);
    expect(bytes.length).toBe(msg.length);
    expect(bytes.length).toBe(10 + 1000);
  });
});

describe("ONNX model encoder", () => {
  it("produces a model onnxruntime-web loads: symbolic dims, attributes, int64 and float initializers", async () => {
    const g = createGraphBuilder("t");
    const x = g.input("x", DataType.FLOAT, ["n", 3]);
    const w = g.initializer("w", DataType.FLOAT, [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
    const y = g.node("MatMul", [x, w]);
    const t = g.node("Transpose", [y], { perm: attr.ints([1, 0]) });
    g.node("Reshape", [t, g.constant("int64", [-1])], {}, { outputs: ["flat"] });
    g.node(
      "LayerNormalization",
      [y, g.constant("float", [1, 1]), g.constant("float", [0, 0])],
      { axis: attr.int(-1), epsilon: attr.float(1e-5) },
      { outputs: ["ln"] },
    );
    g.output("flat", DataType.FLOAT, ["m"]);
    g.output("ln", DataType.FLOAT, ["n", 2]);
    const s = await createOrtWebSession(
      concatEncoded(encodeModel(g.build({ producerName: "t", producerVersion: "0" }))),
    );
    expect(s.inputNames).toEqual(["x"]);
    expect(s.outputNames).toEqual(["flat", "ln"]);
    const out = await s.run({
      x: s.tensor("float32", Float32Array.from([1, 0, 0, 0, 1, 1]), [2, 3]),
    });
    expect(Array.from(out.flat.data as Float32Array)).toEqual([1, 8, 2, 10]);
    const ln = Array.from(out.ln.data as Float32Array);
    expect(ln[0]).toBeCloseTo(-1, 3);
    expect(ln[1]).toBeCloseTo(1, 3);
  });

  it("rejects a graph output nobody produces and an initializer whose bytes do not match its dims", () => {
    const g = createGraphBuilder("bad");
    g.output("ghost", DataType.FLOAT, [1]);
    expect(() => g.build({ producerName: "t", producerVersion: "0" })).toThrow(/ghost/);
    expect(() => g.initializer("w", DataType.FLOAT, [2, 2], new Float32Array(3))).toThrow(
      /\[2,2\] needs 16 bytes, got 12/,
    );
  });
});
