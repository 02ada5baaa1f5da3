/**
 * Where the batch API keeps things in its R2 bucket (BATCHES), and the parts of the Workers
 * bindings it uses, as interfaces (so the app builds in Node, and tests may wrap them):
 * - `files/<file id>`: uploaded inputs and assembled outputs (custom metadata: filename,
 *   purpose, created_at);
 * - `batches/<batch id>/out/<chunk>.jsonl`, `.../err/<chunk>.jsonl`: one chunk's result lines,
 *   at keys fixed by the chunk, so a chunk run twice overwrites its own lines;
 * - `active/<batch id>`: a batch not finished yet (counted against MAX_CONCURRENT_BATCHES).
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { type Batch, FILE_PURPOSES, type FileObject } from "./batch-schema.ts";

export interface StoredObject {
  size: number;
  customMetadata?: Record<string, string>;
}
export interface StoredBody extends StoredObject {
  body: ReadableStream<Uint8Array>;
  text(): Promise<string>;
}

export interface BatchBucket {
  head(key: string): Promise<StoredObject | null>;
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<StoredBody | null>;
  put(
    key: string,
    value: ReadableStream | ArrayBuffer | Uint8Array | string,
    options?: { customMetadata?: Record<string, string> },
  ): Promise<unknown>;
  delete(key: string): Promise<void>;
  list(options: { prefix: string; limit?: number }): Promise<{ objects: { key: string }[] }>;
}

/** One queue message: a byte range of the input file holding `lines` request lines. */
export interface ChunkMessage {
  batchId: string;
  chunk: number;
  fileId: string;
  offset: number;
  length: number;
  /** 1-based line number of the range's first line. */
  firstLine: number;
}

export interface ChunkQueue {
  sendBatch(messages: Iterable<{ body: ChunkMessage }>): Promise<unknown>;
}

/** What a chunk reports when its result lines are in R2. */
export interface ChunkResult {
  completed: number;
  failed: number;
  outBytes: number;
  errBytes: number;
}

/** The batch's Durable Object, as the routes and the consumer call it (RPC). */
export interface BatchState {
  init(batch: Batch, chunks: number): Promise<Batch>;
  get(): Promise<Batch | null>;
  cancel(): Promise<Batch | null>;
  /** Whether to run a chunk now: not when done already, nor once the batch is cancelled. */
  claim(chunk: number): Promise<"run" | "skip">;
  /** Records a chunk's results once (a repeat is ignored); the last chunk assembles the files. */
  land(chunk: number, result: ChunkResult): Promise<void>;
  /** Records a chunk not run (cancelled or expired batch). */
  skip(chunk: number): Promise<void>;
}

export interface BatchDeps {
  bucket: BatchBucket;
  queue: ChunkQueue;
  /** The Durable Object of a batch id. */
  state: (batchId: string) => BatchState;
}

export const fileKey = (fileId: string) => `files/${fileId}`;
export const chunkKey = (batchId: string, kind: "out" | "err", chunk: number) =>
  `batches/${batchId}/${kind}/${chunk}.jsonl`;
export const activeKey = (batchId: string) => `active/${batchId}`;
export const ACTIVE_PREFIX = "active/";

/** A stored file as OpenAI's file object. */
export function fileObjectOf(fileId: string, object: StoredObject): FileObject {
  const meta = object.customMetadata ?? {};
  return {
    id: fileId,
    object: "file",
    bytes: object.size,
    created_at: Number(meta.created_at ?? 0),
    filename: meta.filename ?? fileId,
    purpose: (FILE_PURPOSES as readonly string[]).includes(meta.purpose ?? "")
      ? (meta.purpose as FileObject["purpose"])
      : "batch",
    status: "processed",
  };
}

export function fileMetadata(filename: string, purpose: FileObject["purpose"]) {
  return {
    filename,
    purpose,
    created_at: String(Math.floor(Date.now() / 1000)),
  };
}

/** File ids are ours (`file-` + hex): anything else is not a key to look up. */
export function checkFileId(fileId: string): void {
  if (!/^file-[0-9a-f]{32}$/.test(fileId)) {
    throw new ClipEdgeError("not_found", `no file ${JSON.stringify(fileId)}`);
  }
}

export function checkBatchId(batchId: string): void {
  if (!/^batch_[0-9a-f]{32}$/.test(batchId)) {
    throw new ClipEdgeError("not_found", `no batch ${JSON.stringify(batchId)}`);
  }
}

/** The batch deps, or 503 when this deployment has no BATCHES / BATCH_QUEUE / BATCH bindings. */
export function requireBatch(deps: BatchDeps | undefined): BatchDeps {
  if (!deps) {
    throw new ClipEdgeError(
      "unavailable",
      "the batch API needs the BATCHES bucket, the BATCH_QUEUE queue and the BATCH Durable Object (wrangler.toml)",
    );
  }
  return deps;
}
