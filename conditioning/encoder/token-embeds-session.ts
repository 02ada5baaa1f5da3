/**
 * A text session whose graph takes `token_embeds` (`prepare --token-embedding
 * external-int8`), wrapped so callers keep feeding only `input_ids`: the
 * wrapper looks the rows up (whole-file table in the CLI, ranged reads in the
 * Worker), adds `token_embeds` float32 [...input_ids.dims, W] and hides the
 * input from `inputNames`. Other members of the session (stats, tensor,
 * release) are passed through.
 */
import { ClipEdgeError } from "../errors.ts";
import type { InferenceSessionLike, TensorFactory, TensorLike } from "./session.ts";

export interface TokenEmbedsLookup {
  readonly width: number;
  /** [ids.length * width] float32 rows. */
  lookup(ids: ArrayLike<number | bigint>): Float32Array | Promise<Float32Array>;
}

export function withTokenEmbeds<S extends InferenceSessionLike>(
  session: S,
  table: TokenEmbedsLookup,
  tensor: TensorFactory,
): S {
  return {
    ...session,
    // Explicitly: onnxruntime's sessions define these as getters, which a spread drops.
    inputNames: session.inputNames.filter((n) => n !== "token_embeds"),
    outputNames: session.outputNames,
    ...releaseOf(session),
    async run(feeds: Record<string, TensorLike>, fetches?: readonly string[]) {
      if (feeds.token_embeds) return session.run(feeds, fetches);
      const ids = feeds.input_ids;
      if (!ids) {
        throw new ClipEdgeError(
          "invalid_input",
          `the text graph takes token_embeds from input_ids, but the feeds have only ${Object.keys(feeds).join(", ") || "nothing"}`,
        );
      }
      const embeds = await table.lookup(ids.data as ArrayLike<number | bigint>);
      const token_embeds = tensor("float32", embeds, [...ids.dims, table.width]);
      return session.run({ ...feeds, token_embeds }, fetches);
    },
  };
}

/**
 * Over a queue (the worker's micro-batcher) whose inner session is `withTokenEmbeds`:
 * each caller reads its own rows into the table's LRU first (its own I/O, in its own
 * context), and queues only `input_ids`. The float32 rows ([seq, W] per row: 236 KB
 * for a 77-token ViT-L row) are built when the batch runs, so waiting requests do not
 * hold them.
 */
export function withTokenPrefetch<S extends InferenceSessionLike>(
  session: S,
  table: { prefetch(ids: ArrayLike<number | bigint>): Promise<void> },
): S {
  return {
    ...session,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    ...releaseOf(session),
    async run(feeds: Record<string, TensorLike>, fetches?: readonly string[]) {
      const ids = feeds.input_ids;
      if (ids && !feeds.token_embeds) await table.prefetch(ids.data as ArrayLike<number | bigint>);
      return session.run(feeds, fetches);
    },
  };
}

/** The session's `release` bound to it, when it has one (a spread drops prototype methods). */
function releaseOf(session: InferenceSessionLike): { release?: () => Promise<void> } {
  const release = (session as { release?: () => Promise<void> }).release;
  return release ? { release: () => release.call(session) } : {};
}
