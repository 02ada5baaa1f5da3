import { readFileSync } from "node:fs";
import type { Quantization } from "../../../conditioning/bundle/manifest.ts";
import {
  parseSafetensors,
  type SafetensorsEntry,
  tensorToFloat32,
  tensorToInt32,
} from "../../../conditioning/formats/safetensors.ts";
import { encodeModel } from "../../../node/onnx/onnx-proto.ts";
import { concatEncoded } from "../../../node/onnx/protobuf.ts";
import { readCheckpoint } from "../../../node/prepare/read-checkpoint.ts";
import { buildTextGraph } from "../../../node/prepare/text-graph.ts";
import { loadTextWeights, loadVisionWeights } from "../../../node/prepare/tower-weights.ts";
import { buildVisionGraph } from "../../../node/prepare/vision-graph.ts";
import { createOrtWebSession } from "../../../node/runtime/ort-web-session.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

export function goldens(model: string): Map<string, SafetensorsEntry> {
  const bytes = new Uint8Array(readFileSync(fixturePath("models", model, "golden.safetensors")));
  return parseSafetensors(bytes, `${model}/golden.safetensors`).tensors;
}

export function goldenFloat(g: Map<string, SafetensorsEntry>, name: string): Float32Array {
  const e = g.get(name);
  if (!e) throw new Error(`golden ${name} missing`);
  return tensorToFloat32(e, name);
}

export function goldenIds(g: Map<string, SafetensorsEntry>, name: string): Int32Array {
  const e = g.get(name);
  if (!e) throw new Error(`golden ${name} missing`);
  return tensorToInt32(e, name);
}

export function pixelValues(): Float32Array {
  const bytes = new Uint8Array(readFileSync(fixturePath("images", "pixel_values.safetensors")));
  return tensorToFloat32(parseSafetensors(bytes).tensors.get("pixel_values")!, "pixel_values");
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export async function textSession(
  model: string,
  quantization: Quantization = "fp32",
  hiddenStates = 3,
  attentionMask = false,
) {
  const ck = readCheckpoint(fixturePath("models", model));
  const w = loadTextWeights(ck.tensors, ck.config.text!, ck.config.projectionDim);
  const built = buildTextGraph(ck.config.text!, w, { quantization, hiddenStates, attentionMask });
  return createOrtWebSession(concatEncoded(encodeModel(built.model)), {
    label: `${model} text ${quantization}`,
  });
}

export async function visionSession(model: string, quantization: Quantization = "fp32") {
  const ck = readCheckpoint(fixturePath("models", model));
  const w = loadVisionWeights(ck.tensors, ck.config.vision!, ck.config.projectionDim);
  const built = buildVisionGraph(ck.config.vision!, w, { quantization });
  return createOrtWebSession(concatEncoded(encodeModel(built.model)), {
    label: `${model} vision ${quantization}`,
  });
}

export function ids64(ids: ArrayLike<number>): BigInt64Array {
  return BigInt64Array.from(Array.from(ids), (v) => BigInt(v));
}
