/**
 * `POST /v1/text-graph/run`: runs the origin's text graph on token ids the caller prepared,
 * so a worker's conditioning core can use the origin as a remote `InferenceSessionLike`
 * for encoders too large for the edge (SD 2.x ViT-H, SDXL bigG): tokenisation, chunking,
 * weighting and clip skip stay in the same core; only `session.run` crosses the network.
 *
 * Request:  { "inputs": { "input_ids": { "type": "int64", "dims": [n, s], "data": "<base64 LE>" },
 *                         "attention_mask"?: same }, "fetches": ["last_hidden_state", ...] }
 * Response: { "model", "outputs": { name: { "type": "float32", "dims": [...], "data": "<base64 LE>" } } }
 */
import type {
  InferenceSessionLike,
  TensorFactory,
  TensorLike,
} from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { decodeBase64, encodeBase64 } from "../../conditioning/formats/base64.ts";

export interface TextGraphRunner {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(
    body: unknown,
  ): Promise<{ outputs: Record<string, { type: string; dims: number[]; data: string }> }>;
}

export interface TextGraphRunnerOptions {
  session: InferenceSessionLike;
  tensor: TensorFactory;
  maxBatch: number;
  maxSequence: number;
  vocabSize: number;
}

function readIds(value: unknown, name: string, opts: TextGraphRunnerOptions): TensorLike {
  const v = value as { type?: unknown; dims?: unknown; data?: unknown } | null;
  if (v?.type !== "int64" || !Array.isArray(v.dims) || typeof v.data !== "string") {
    throw new ClipEdgeError(
      "invalid_input",
      `inputs.${name} must be { type: "int64", dims: [n, s], data: base64 }`,
    );
  }
  const dims = v.dims as number[];
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
    async run(body) {
      const b = body as { inputs?: Record<string, unknown>; fetches?: unknown } | null;
      if (!b || typeof b.inputs !== "object" || b.inputs === null) {
        throw new ClipEdgeError(
          "invalid_input",
          'body must be { "inputs": {...}, "fetches": [...] }',
        );
      }
      const feeds: Record<string, TensorLike> = {};
      for (const [name, value] of Object.entries(b.inputs)) {
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
      const fetches = b.fetches ?? ["text_embeds"];
      if (
        !Array.isArray(fetches) ||
        fetches.length === 0 ||
        fetches.some((f) => typeof f !== "string" || !session.outputNames.includes(f))
      ) {
        throw new ClipEdgeError(
          "invalid_input",
          `fetches must be a non-empty list of graph outputs (${session.outputNames.join(", ")})`,
        );
      }
      const result = await session.run(feeds, fetches as string[]);
      const outputs: Record<string, { type: string; dims: number[]; data: string }> = {};
      for (const name of fetches as string[]) {
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
