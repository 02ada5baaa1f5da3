/**
 * `POST /v1/text-graph/run`: runs the origin's text graph on token ids the caller prepared,
 * so a worker's conditioning core can use the origin as a remote `InferenceSessionLike`
 * for encoders too large for the edge (SD 2.x ViT-H, SDXL bigG): tokenisation, chunking,
 * weighting and clip skip stay in the same core; only `session.run` crosses the network.
 *
 * Request and response: TextGraphRunRequest / TextGraphRunResponse (conditioning/protocol);
 * this file checks what the schema cannot: int64 [n, s] within the limits, ids in the vocab.
 */
import type {
  InferenceSessionLike,
  TensorFactory,
  TensorLike,
} from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { decodeBase64, encodeBase64 } from "../../conditioning/formats/base64.ts";
import type { TextGraphRunRequest, WireTensor } from "../../conditioning/protocol/origin-wire.ts";

export interface TextGraphRunner {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(request: TextGraphRunRequest): Promise<{ outputs: Record<string, WireTensor> }>;
}

export interface TextGraphRunnerOptions {
  session: InferenceSessionLike;
  tensor: TensorFactory;
  maxBatch: number;
  maxSequence: number;
  vocabSize: number;
}

function readIds(v: WireTensor, name: string, opts: TextGraphRunnerOptions): TensorLike {
  if (v.type !== "int64") {
    throw new ClipEdgeError(
      "invalid_input",
      `inputs.${name} must be { type: "int64", dims: [n, s], data: base64 }, got type ${JSON.stringify(v.type)}`,
    );
  }
  const dims = v.dims;
  const [n, s] = dims;
  if (dims.length !== 2 || !Number.isInteger(n) || !Number.isInteger(s) || n < 1 || s < 1) {
    throw new ClipEdgeError(
      "invalid_input",
      `inputs.${name}: dims [${dims.join(",")}] must be [n >= 1, s >= 1]`,
    );
  }
  if (n > opts.maxBatch || s > opts.maxSequence) {
    throw new ClipEdgeError(
      "too_large",
      `inputs.${name}: [${n}, ${s}] exceeds [${opts.maxBatch}, ${opts.maxSequence}]`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(v.data);
  } catch (error) {
    throw new ClipEdgeError("invalid_input", `inputs.${name}.data is not valid base64`, {
      cause: error,
    });
  }
  if (bytes.length !== n * s * 8) {
    throw new ClipEdgeError(
      "invalid_input",
      `inputs.${name}: ${bytes.length} bytes, [${n}, ${s}] int64 needs ${n * s * 8}`,
    );
  }
  const data = new BigInt64Array(n * s);
  new Uint8Array(data.buffer).set(bytes);
  const limit = name === "input_ids" ? BigInt(opts.vocabSize) : 2n;
  for (const id of data) {
    if (id < 0n || id >= limit) {
      throw new ClipEdgeError(
        "invalid_input",
        `inputs.${name}: value ${id} outside 0..${limit - 1n}`,
      );
    }
  }
  return opts.tensor("int64", data, [n, s]);
}

export function createTextGraphRunner(options: TextGraphRunnerOptions): TextGraphRunner {
  const { session } = options;
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(request) {
      const feeds: Record<string, TensorLike> = {};
      for (const [name, value] of Object.entries(request.inputs)) {
        if (!session.inputNames.includes(name)) {
          throw new ClipEdgeError(
            "invalid_input",
            `unknown input "${name}" (graph inputs: ${session.inputNames.join(", ")})`,
          );
        }
        feeds[name] = readIds(value, name, options);
      }
      if (!feeds.input_ids)
        throw new ClipEdgeError("invalid_input", "inputs.input_ids is required");
      const fetches = request.fetches ?? ["text_embeds"];
      if (fetches.some((f) => !session.outputNames.includes(f))) {
        throw new ClipEdgeError(
          "invalid_input",
          `fetches must be a non-empty list of graph outputs (${session.outputNames.join(", ")})`,
        );
      }
      const result = await session.run(feeds, fetches);
      const outputs: Record<string, WireTensor> = {};
      for (const name of fetches) {
        const t = result[name];
        if (!t || !(t.data instanceof Float32Array)) {
          throw new ClipEdgeError("internal", `text graph returned no float32 ${name}`);
        }
        const data = t.data;
        outputs[name] = {
          type: "float32",
          dims: [...t.dims],
          data: encodeBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
        };
      }
      return { outputs };
    },
  };
}
