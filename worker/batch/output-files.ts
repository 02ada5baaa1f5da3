/**
 * Assembles a batch's output and error files from its chunks' result objects in R2, in
 * chunk order, streamed (sizes are known, so R2 gets a fixed-length stream and no file is
 * held in memory). A file with no lines is not written (its id stays null, as OpenAI's).
 */
import { newId } from "./batch-schema.ts";
import {
  type BatchBucket,
  type ChunkResult,
  chunkKey,
  fileKey,
  fileMetadata,
} from "./batch-store.ts";

export interface AssembleOptions {
  bucket: BatchBucket;
  batchId: string;
  /** Landed chunks, in order. */
  chunks: readonly [number, ChunkResult][];
}

export async function assembleFiles(
  options: AssembleOptions,
): Promise<{ outputFileId: string | null; errorFileId: string | null }> {
  return {
    outputFileId: await assemble(options, "out", "output"),
    errorFileId: await assemble(options, "err", "errors"),
  };
}

async function assemble(
  { bucket, batchId, chunks }: AssembleOptions,
  kind: "out" | "err",
  name: string,
): Promise<string | null> {
  const parts = chunks.filter(([, r]) => (kind === "out" ? r.outBytes : r.errBytes) > 0);
  const total = parts.reduce((sum, [, r]) => sum + (kind === "out" ? r.outBytes : r.errBytes), 0);
  if (total === 0) return null;
  const fileId = newId("file-");
  const { readable, writable } = new FixedLengthStream(total);
  const put = bucket.put(fileKey(fileId), readable, {
    customMetadata: fileMetadata(`${batchId}_${name}.jsonl`, "batch_output"),
  });
  const copy = (async () => {
    for (const [chunk] of parts) {
      const object = await bucket.get(chunkKey(batchId, kind, chunk));
      if (!object) throw new Error(`batch ${batchId}: chunk ${chunk} ${kind} is missing in R2`);
      await object.body.pipeTo(writable, { preventClose: true });
    }
    await writable.close();
  })().catch(async (error) => {
    await writable.abort(error).catch(() => {});
    throw error;
  });
  await Promise.all([put, copy]);
  return fileId;
}
