/**
 * Builds the tiny-openai vision graph from the fixture checkpoint with the prepare
 * engineer's graph builder (node/prepare) and opens it in onnxruntime-node.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeModel } from "../../node/onnx/onnx-proto.ts";
import { parseClipConfig } from "../../node/prepare/clip-config.ts";
import { readCheckpoint } from "../../node/prepare/read-checkpoint.ts";
import { loadVisionWeights } from "../../node/prepare/tower-weights.ts";
import { buildVisionGraph } from "../../node/prepare/vision-graph.ts";
import { createOrtNodeSession } from "../../node/runtime/ort-node-session.ts";
import { tinyOpenaiDir } from "./helpers.ts";

export function tinyOpenaiVisionOnnx(): Uint8Array {
  const dir = tinyOpenaiDir();
  const checkpoint = readCheckpoint(dir);
  const config = parseClipConfig(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")));
  if (!config.vision) throw new Error(`${dir}: no vision_config`);
  const weights = loadVisionWeights(checkpoint.tensors, config.vision, config.projectionDim);
  const built = buildVisionGraph(config.vision, weights, { quantization: "fp32" });
  const encoded = encodeModel(built.model);
  const bytes = new Uint8Array(encoded.length);
  let offset = 0;
  for (const chunk of encoded.chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

export function tinyOpenaiVisionSession(options: { intraOpNumThreads?: number } = {}) {
  return createOrtNodeSession(tinyOpenaiVisionOnnx(), { label: "tiny-openai vision", ...options });
}
