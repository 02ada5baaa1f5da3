import type { BundleManifest } from "../bundle/manifest.ts";
import type { InferenceSessionLike, TensorFactory } from "../encoder/session.ts";
import { l2NormalizeRows } from "../scoring/normalize.ts";
import { runSequences } from "./encoder-runner.ts";
import { CHUNK_TOKENS, EOT_ID, SOT_ID, tokenizeText } from "./token-chunks.ts";
import type { FloatTensor, TokenizerLike } from "./types.ts";

export interface TextEmbedderOptions {
  session: InferenceSessionLike;
  tokenizer: TokenizerLike;
  tensorFactory: TensorFactory;
  manifest?: BundleManifest;
  /** Pad id (default: manifest's, else 49407). Irrelevant to pooled outputs (causal mask). */
  padId?: number;
  /** Graph output to read (default text_embeds). */
  output?: "text_embeds" | "pooled";
  /** L2-normalise rows (default true). */
  normalize?: boolean;
  maxBatch?: number;
  id?: string;
}

export interface TextEmbeddings {
  /** [n, E] rows in input order. */
  embeddings: FloatTensor;
  /** BPE tokens per text (without SOT/EOT), before truncation. */
  tokenCounts: number[];
  truncated: boolean[];
}

export interface TextEmbedder {
  embed(texts: readonly string[]): Promise<TextEmbeddings>;
  /**
   * The same for BPE ids a tokenizer already gave (without SOT/EOT, at most one 75-token
   * window each): `embedIds(ids)` equals `embed(texts)` for the texts of those ids.
   */
  embedIds(ids: readonly number[][]): Promise<TextEmbeddings>;
}

/**
 * Pooled/text_embeds vectors, batched, each batch run only up to its longest EOT
 * position (exact: the causal mask keeps later positions from touching the EOT row).
 */
export function createTextEmbedder(options: TextEmbedderOptions): TextEmbedder {
  const padId = options.padId ?? options.manifest?.tokenizer.padId ?? EOT_ID;
  const output = options.output ?? "text_embeds";
  const maxBatch = options.maxBatch ?? 32;
  const model = options.id ?? options.manifest?.name ?? "text encoder";
  const run = async (encoded: readonly number[][]): Promise<TextEmbeddings> => {
    const seqs = encoded.map((ids) => [SOT_ID, ...ids.slice(0, CHUNK_TOKENS), EOT_ID]);
    const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length);
    const rows: Float32Array[] = new Array(encoded.length);
    for (let start = 0; start < order.length; start += maxBatch) {
      const group = order.slice(start, start + maxBatch);
      const len = Math.max(...group.map((i) => seqs[i].length));
      const batch = group.map((i) => ({
        ids: [...seqs[i], ...new Array(len - seqs[i].length).fill(padId)],
      }));
      const out = await runSequences(batch, [output], {
        session: options.session,
        tensorFactory: options.tensorFactory,
        model,
        maxBatch,
      });
      group.forEach((i, b) => {
        rows[i] = out[output][b];
      });
    }
    const dim = rows.length > 0 ? rows[0].length : 0;
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      flat.set(r, i * dim);
    });
    return {
      embeddings: {
        shape: [rows.length, dim],
        data: options.normalize === false || dim === 0 ? flat : l2NormalizeRows(flat, dim),
      },
      tokenCounts: encoded.map((ids) => ids.length),
      truncated: encoded.map((ids) => ids.length > CHUNK_TOKENS),
    };
  };
  return {
    embed: (texts) => run(texts.map((t) => tokenizeText(options.tokenizer, t).ids)),
    embedIds: run,
  };
}
