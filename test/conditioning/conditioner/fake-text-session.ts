import type {
  InferenceSessionLike,
  TensorFactory,
  TensorLike,
} from "../../../conditioning/encoder/session.ts";

/**
 * A deterministic stand-in for a text graph with the manifest's I/O names, for testing
 * the pipeline's plumbing (feeds, fetches, batching, assembly). It is causal: position t
 * depends only on ids[0..t] (and the attention mask), like CLIP.
 */
export interface FakeCall {
  fetches: string[];
  dims: number[];
  ids: bigint[];
  mask?: bigint[];
}

export const tensorFactory: TensorFactory = (type, data, dims) => ({ type, data, dims: [...dims] });

function hidden(ids: bigint[], mask: bigint[] | undefined, width: number, k: number): Float32Array {
  const seq = ids.length;
  const out = new Float32Array(seq * width);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < width; i++) {
      let acc = 0;
      let count = 0;
      for (let s = 0; s <= t; s++) {
        if (mask && mask[s] === 0n) continue;
        acc += Math.sin(Number(ids[s]) * 0.37 + i * 1.3 + s * 0.05);
        count++;
      }
      out[t * width + i] = (acc / Math.max(count, 1)) * (1 + 0.25 * k) + 0.01 * k + 0.002 * i;
    }
  }
  return out;
}

function layerNormRows(x: Float32Array, width: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    let m = 0;
    for (let i = 0; i < width; i++) m += x[r * width + i];
    m /= width;
    let v = 0;
    for (let i = 0; i < width; i++) v += (x[r * width + i] - m) ** 2;
    const sd = Math.sqrt(v / width + 1e-5);
    for (let i = 0; i < width; i++) out[r * width + i] = (x[r * width + i] - m) / sd;
  }
  return out;
}

export function createFakeTextSession(options: {
  width: number;
  projection?: number;
  exported?: number;
  attentionMask?: boolean;
}): InferenceSessionLike & { calls: FakeCall[] } {
  const { width } = options;
  const k = options.exported ?? 3;
  const outputNames = ["last_hidden_state", "pooled"];
  for (let i = 1; i <= k; i++) outputNames.push(`hidden_states_${i}`, `hidden_states_ln_${i}`);
  if (options.projection) outputNames.push("text_embeds");
  const calls: FakeCall[] = [];
  return {
    inputNames: options.attentionMask === false ? ["input_ids"] : ["input_ids", "attention_mask"],
    outputNames,
    calls,
    async run(feeds, fetches) {
      const idsT = feeds.input_ids;
      const [batch, seq] = idsT.dims;
      const all = idsT.data as BigInt64Array;
      const maskAll = feeds.attention_mask?.data as BigInt64Array | undefined;
      const names = fetches ? [...fetches] : outputNames;
      calls.push({
        fetches: names,
        dims: [...idsT.dims],
        ids: [...all],
        mask: maskAll ? [...maskAll] : undefined,
      });
      const result: Record<string, TensorLike> = {};
      for (const name of names) {
        const rows: Float32Array[] = [];
        for (let b = 0; b < batch; b++) {
          const ids = [...all.subarray(b * seq, (b + 1) * seq)];
          const mask = maskAll ? [...maskAll.subarray(b * seq, (b + 1) * seq)] : undefined;
          const m = /^hidden_states_(ln_)?(\d+)$/.exec(name);
          if (m) {
            const h = hidden(ids, mask, width, Number(m[2]));
            rows.push(m[1] ? layerNormRows(h, width) : h);
          } else {
            const last = layerNormRows(hidden(ids, mask, width, 1), width);
            if (name === "last_hidden_state") rows.push(last);
            else {
              let at = 0;
              ids.forEach((id, t) => {
                if (id > ids[at]) at = t;
              });
              const pooled = last.slice(at * width, (at + 1) * width);
              if (name === "pooled") rows.push(pooled);
              else rows.push(pooled.slice(0, options.projection).map((v, i) => v * 2 + 0.1 * i));
            }
          }
        }
        const size = rows[0].length;
        const data = new Float32Array(batch * size);
        rows.forEach((r, b) => {
          data.set(r, b * size);
        });
        result[name] = {
          type: "float32",
          data,
          dims: name === "pooled" || name === "text_embeds" ? [batch, size] : [batch, seq, width],
        };
      }
      return result;
    },
  };
}

/** Reference of the fake graph for one sequence (for direct computations in tests). */
export async function fakeRun(
  session: InferenceSessionLike,
  ids: number[],
  output: string,
  mask?: number[],
): Promise<Float32Array> {
  const feeds: Record<string, TensorLike> = {
    input_ids: tensorFactory("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
  };
  if (mask)
    feeds.attention_mask = tensorFactory("int64", BigInt64Array.from(mask.map(BigInt)), [
      1,
      ids.length,
    ]);
  const out = await session.run(feeds, [output]);
  return out[output].data as Float32Array;
}
