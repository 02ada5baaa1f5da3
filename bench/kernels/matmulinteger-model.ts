/**
 * The one-node ONNX graph onnxruntime-web runs for the spike's baseline:
 * c[M,N] i32 = MatMulInteger(a[M,K] u8, b[K,N] s8 (initializer), azp u8 scalar).
 */
import { createGraphBuilder } from "../../node/onnx/graph-builder.ts";
import { DataType, encodeModel } from "../../node/onnx/onnx-proto.ts";
import { concatEncoded } from "../../node/onnx/protobuf.ts";
import type { GemmShape } from "./gemm-cases.ts";

export function buildMatMulIntegerModel(s: GemmShape, b: Int8Array, azp: number): Uint8Array {
  const g = createGraphBuilder("matmulinteger");
  const a = g.input("a", DataType.UINT8, [s.m, s.k]);
  const w = g.initializer("b", DataType.INT8, [s.k, s.n], b);
  const zp = g.initializer("azp", DataType.UINT8, [], Uint8Array.of(azp));
  g.node("MatMulInteger", [a, w, zp], {}, { outputs: ["c"] });
  g.output("c", DataType.INT32, [s.m, s.n]);
  return concatEncoded(
    encodeModel(g.build({ producerName: "clip-edge-kernel-spike", producerVersion: "0" })),
  );
}
