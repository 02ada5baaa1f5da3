/**
 * The origin's text graph as an `InferenceSessionLike`: the worker's conditioning core
 * (tokenizer, chunking, weighting, clip skip) runs unchanged for encoders too large for the
 * edge, and only `session.run` goes to the origin (`POST /v1/text-graph/run`).
 */
import type { InferenceSessionLike, TensorLike } from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { decodeBase64, encodeBase64 } from "../../conditioning/formats/base64.ts";
import type { WireTensor } from "../../conditioning/protocol/origin-wire.ts";
import type { OriginClient } from "./origin-client.ts";

function toInt64Wire(name: string, tensor: TensorLike): WireTensor {
  const { data, dims } = tensor;
  let ids: BigInt64Array;
  if (data instanceof BigInt64Array) ids = data;
  else if (data instanceof Int32Array) ids = BigInt64Array.from(data, (v) => BigInt(v));
  else {
    throw new ClipEdgeError(
      "invalid_input",
      `remote text session: input ${name} must be int64 or int32, got ${tensor.type}[${dims.join(",")}]`,
    );
  }
  return {
    type: "int64",
    dims: [...dims],
    data: encodeBase64(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength)),
  };
}

function fromWire(name: string, wire: WireTensor): TensorLike {
  if (wire?.type !== "float32" || !Array.isArray(wire.dims) || typeof wire.data !== "string") {
    throw new ClipEdgeError("origin_unavailable", `origin returned a malformed tensor ${name}`);
  }
  const bytes = decodeBase64(wire.data);
  const count = wire.dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * 4) {
    throw new ClipEdgeError(
      "origin_unavailable",
      `origin returned ${bytes.length} bytes for ${name} float32[${wire.dims.join(",")}]`,
    );
  }
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes);
  return { type: "float32", data, dims: wire.dims };
}

/** Asks the origin for its text graph's I/O names, then returns the remote session. */
export async function createRemoteTextSession(client: OriginClient): Promise<InferenceSessionLike> {
  const info = await client.info();
  if (!info.textGraph) {
    throw new ClipEdgeError("not_found", `origin model ${info.model} has no text graph`);
  }
  const { inputNames, outputNames } = info.textGraph;
  return {
    inputNames,
    outputNames,
    async run(feeds, fetches) {
      const inputs: Record<string, WireTensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) inputs[name] = toInt64Wire(name, tensor);
      const wanted = fetches ?? outputNames;
      const result = await client.runTextGraph(inputs, wanted);
      const out: Record<string, TensorLike> = {};
      for (const name of wanted) out[name] = fromWire(name, result.outputs[name]);
      return out;
    },
  };
}
