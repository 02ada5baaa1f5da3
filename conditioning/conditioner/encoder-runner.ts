import type { InferenceSessionLike, TensorFactory, TensorLike } from "../encoder/session.ts";
import { ClipEdgeError } from "../errors.ts";
import { fromFloat16Array } from "../formats/float16.ts";

/** One sequence to encode; `mask` (1 = attend, 0 = masked key) defaults to all ones. */
export interface SequenceInput {
  ids: readonly number[];
  mask?: readonly number[];
}

/** Per output name, one Float32Array per input row (the row's [seq, W] or [E] slice). */
export type RowOutputs = Record<string, Float32Array[]>;

export interface RunOptions {
  session: InferenceSessionLike;
  tensorFactory: TensorFactory;
  model: string;
  /** Largest batch handed to one session.run. */
  maxBatch?: number;
}

/** The largest k among the session's `hidden_states_<k>` outputs (0 when none). */
export function exportedHiddenStates(session: InferenceSessionLike): number {
  let k = 0;
  for (const name of session.outputNames) {
    const m = /^hidden_states_(\d+)$/.exec(name);
    if (m) k = Math.max(k, Number(m[1]));
  }
  return k;
}

function floatData(tensor: TensorLike, name: string, model: string): Float32Array {
  if (tensor.data instanceof Float32Array) return tensor.data;
  if (tensor.type === "float16" && tensor.data instanceof Uint16Array) {
    return fromFloat16Array(tensor.data);
  }
  throw new ClipEdgeError(
    "internal",
    `model ${model}: output ${name} has type ${tensor.type}, expected float32 [${tensor.dims}]`,
  );
}

/**
 * Encodes equal-length sequences with the text graph, requesting only `fetches`.
 * Identical sequences are encoded once. Returns per-row slices for each output.
 */
export async function runSequences(
  sequences: readonly SequenceInput[],
  fetches: readonly string[],
  options: RunOptions,
): Promise<RowOutputs> {
  const { session, tensorFactory, model } = options;
  for (const name of fetches) {
    if (!session.outputNames.includes(name)) {
      const k = exportedHiddenStates(session);
      throw new ClipEdgeError(
        "invalid_request",
        `model ${model} has no output ${name} (outputs: ${session.outputNames.join(", ")}; exported hidden states K=${k})`,
        { details: { output: name, exportedHiddenStates: k } },
      );
    }
  }
  const hasMaskInput = session.inputNames.includes("attention_mask");
  const needsMask = sequences.some((s) => s.mask?.some((v) => v !== 1));
  if (needsMask && !hasMaskInput) {
    throw new ClipEdgeError(
      "unsupported",
      `model ${model}: the text graph has no attention_mask input, which compel down-weighting needs`,
    );
  }
  const unique: SequenceInput[] = [];
  const keyIndex = new Map<string, number>();
  const rowOf = sequences.map((s) => {
    const key = `${s.ids.join(",")}|${s.mask?.join("") ?? ""}`;
    let at = keyIndex.get(key);
    if (at === undefined) {
      at = unique.length;
      unique.push(s);
      keyIndex.set(key, at);
    }
    return at;
  });
  const seq = sequences.length > 0 ? sequences[0].ids.length : 0;
  for (const s of sequences) {
    if (s.ids.length !== seq || (s.mask && s.mask.length !== seq)) {
      throw new ClipEdgeError(
        "internal",
        `model ${model}: sequences of unequal length in one batch`,
      );
    }
  }
  const uniqueRows: RowOutputs = Object.fromEntries(fetches.map((f) => [f, [] as Float32Array[]]));
  const maxBatch = Math.max(1, options.maxBatch ?? 16);
  for (let start = 0; start < unique.length; start += maxBatch) {
    const batch = unique.slice(start, start + maxBatch);
    const ids = new BigInt64Array(batch.length * seq);
    batch.forEach((s, b) => {
      for (let t = 0; t < seq; t++) ids[b * seq + t] = BigInt(s.ids[t]);
    });
    const feeds: Record<string, TensorLike> = {
      input_ids: tensorFactory("int64", ids, [batch.length, seq]),
    };
    if (hasMaskInput) {
      const mask = new BigInt64Array(batch.length * seq).fill(1n);
      batch.forEach((s, b) => {
        if (s.mask) for (let t = 0; t < seq; t++) mask[b * seq + t] = BigInt(s.mask[t]);
      });
      feeds.attention_mask = tensorFactory("int64", mask, [batch.length, seq]);
    }
    let outputs: Record<string, TensorLike>;
    try {
      outputs = await session.run(feeds, fetches);
    } catch (error) {
      throw new ClipEdgeError(
        "internal",
        `model ${model}: text graph run failed for input_ids [${batch.length}, ${seq}]: ${(error as Error)?.message ?? error}`,
        { cause: error },
      );
    }
    for (const name of fetches) {
      const tensor = outputs[name];
      if (!tensor) throw new ClipEdgeError("internal", `model ${model}: run returned no ${name}`);
      const data = floatData(tensor, name, model);
      const rowSize = data.length / batch.length;
      if (tensor.dims[0] !== batch.length || !Number.isInteger(rowSize)) {
        throw new ClipEdgeError(
          "internal",
          `model ${model}: output ${name} has dims [${tensor.dims}] for a batch of ${batch.length}`,
        );
      }
      for (let b = 0; b < batch.length; b++) {
        uniqueRows[name].push(data.slice(b * rowSize, (b + 1) * rowSize));
      }
    }
  }
  return Object.fromEntries(fetches.map((f) => [f, rowOf.map((r) => uniqueRows[f][r])]));
}
