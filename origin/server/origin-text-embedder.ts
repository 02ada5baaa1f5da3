/**
 * Text embeddings for encoders too large for the edge: tokenizer (conditioning core) ->
 * text graph (`input_ids` int64 [n, 77] -> `text_embeds` [n, E], `pooled` [n, W]).
 */
import type { InferenceSessionLike, TensorFactory } from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { Tokenizer } from "../../conditioning/tokenizer/tokenizer.ts";

export interface TextEmbedding {
  text_embeds?: Float32Array;
  pooled?: Float32Array;
  num_tokens: number;
  truncated: boolean;
}

export interface OriginTextEmbedder {
  embed(texts: readonly string[]): Promise<TextEmbedding[]>;
}

export interface TextEmbedderOptions {
  session: InferenceSessionLike;
  tensor: TensorFactory;
  tokenizer: Tokenizer;
  /** Pad id of the checkpoint (bundle manifest `tokenizer.padId`). */
  padId: number;
  maxLength?: number;
  label?: string;
}

function rows(
  value: { data: unknown; dims: readonly number[] } | undefined,
  n: number,
  name: string,
  label: string,
) {
  if (!value) return undefined;
  if (!(value.data instanceof Float32Array) || value.dims.length !== 2 || value.dims[0] !== n) {
    throw new ClipEdgeError(
      "internal",
      `${label}: ${name} came back as [${value.dims.join(",")}] for ${n} prompts`,
    );
  }
  const data = value.data;
  const width = value.dims[1];
  return Array.from({ length: n }, (_, i) => data.slice(i * width, (i + 1) * width));
}

export function createOriginTextEmbedder(options: TextEmbedderOptions): OriginTextEmbedder {
  const { session, tensor, tokenizer, padId } = options;
  const label = options.label ?? "text graph";
  const maxLength = options.maxLength ?? tokenizer.maxLength;
  if (!session.inputNames.includes("input_ids")) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: has inputs [${session.inputNames.join(", ")}], expected "input_ids"`,
    );
  }
  const fetches = ["text_embeds", "pooled"].filter((n) => session.outputNames.includes(n));
  if (fetches.length === 0) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: has outputs [${session.outputNames.join(", ")}], expected "text_embeds" or "pooled"`,
    );
  }
  return {
    async embed(texts) {
      const n = texts.length;
      const ids = new BigInt64Array(n * maxLength);
      const encoded = texts.map((text, i) => {
        const input = tokenizer.encodeForModel(text, { maxLength, pad: padId });
        input.ids.forEach((id, j) => {
          ids[i * maxLength + j] = BigInt(id);
        });
        return input;
      });
      const feeds: Record<string, ReturnType<TensorFactory>> = {
        input_ids: tensor("int64", ids, [n, maxLength]),
      };
      if (session.inputNames.includes("attention_mask")) {
        // OpenAI / SD pipelines pass no padding mask: attend everywhere (causal mask only).
        feeds.attention_mask = tensor("int64", new BigInt64Array(n * maxLength).fill(1n), [
          n,
          maxLength,
        ]);
      }
      const out = await session.run(feeds, fetches);
      const textEmbeds = rows(out.text_embeds, n, "text_embeds", label);
      const pooled = rows(out.pooled, n, "pooled", label);
      return encoded.map((input, i) => ({
        ...(textEmbeds ? { text_embeds: textEmbeds[i] } : {}),
        ...(pooled ? { pooled: pooled[i] } : {}),
        num_tokens: input.eotIndex - 1 + input.droppedTokens,
        truncated: input.droppedTokens > 0,
      }));
    },
  };
}
