/**
 * Prepared bundles in R2 (binding `MODELS`): `<model>/manifest.json` plus the
 * files the manifest names. Every graph and tokenizer file is checked against
 * the manifest's SHA-256 (crypto.subtle) before use. Files read by range (the
 * external token-embedding table) are checked for size only: a whole-file
 * SHA-256 would mean reading the file whole, which is what the range reads avoid.
 */
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/** The part of an R2 bucket the store uses (R2Bucket satisfies it). */
export interface BucketLike {
  /** With `range`, the body is those bytes and `size` stays the whole object's size. */
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<{
    arrayBuffer(): Promise<ArrayBuffer>;
    size: number;
    /** R2ObjectBody's stream (read with a BYOB reader by `getFileInto`). */
    body?: ReadableStream<Uint8Array>;
  } | null>;
  list(options?: { delimiter?: string; prefix?: string; cursor?: string }): Promise<{
    delimitedPrefixes: string[];
    truncated: boolean;
    cursor?: string;
  }>;
}

export interface LoadedManifest {
  manifest: BundleManifest;
  /** SHA-256 (hex) of manifest.json: the model's identity in cache keys and responses. */
  hash: string;
}

export interface BundleStore {
  listModels(): Promise<string[]>;
  getManifest(model: string): Promise<LoadedManifest>;
  /** A file of the bundle, verified against `expected.sha256` when given. */
  getFile(
    model: string,
    file: string,
    expected?: { sha256: string; bytes?: number },
  ): Promise<Uint8Array>;
  /**
   * A bundle file read into `target` (a view of at least `expected.bytes`),
   * checked like `getFile`. The stream is read with a BYOB reader, which
   * transfers `target`'s ArrayBuffer: the returned view is on the transferred
   * buffer and `target` (and every other view of the old buffer) is detached.
   * Lets a caller load many files through one buffer instead of allocating one
   * per file (garbage V8 collects when it pleases).
   */
  getFileInto(
    model: string,
    file: string,
    expected: { sha256: string; bytes: number },
    target: Uint8Array<ArrayBuffer>,
  ): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * `length` bytes of a bundle file from `offset` (an R2 ranged read). The
   * object's size is checked against `expected.bytes` on every read; its SHA-256
   * cannot be checked without reading it whole (callers check what they parse).
   */
  getRange(
    model: string,
    file: string,
    range: { offset: number; length: number },
    expected: { bytes: number },
  ): Promise<Uint8Array>;
}

export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function createBundleStore(options: { bucket: BucketLike }): BundleStore {
  const { bucket } = options;

  async function read(key: string): Promise<Uint8Array | null> {
    let object: Awaited<ReturnType<BucketLike["get"]>>;
    try {
      object = await bucket.get(key);
    } catch (cause) {
      throw new ClipEdgeError("unavailable", `R2 bucket MODELS could not read ${key}`, { cause });
    }
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  function missing(key: string): ClipEdgeError {
    return new ClipEdgeError(
      "unavailable",
      `bundle file ${key} named by the manifest is missing from R2`,
    );
  }

  return {
    async listModels() {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await bucket.list({ delimiter: "/", cursor });
        for (const prefix of page.delimitedPrefixes) names.push(prefix.replace(/\/$/, ""));
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return names.sort();
    },

    async getManifest(model) {
      if (!MODEL_NAME.test(model)) {
        throw new ClipEdgeError(
          "not_found",
          `model ${JSON.stringify(model)} is not a valid model name`,
        );
      }
      const bytes = await read(`${model}/manifest.json`);
      if (!bytes) {
        throw new ClipEdgeError(
          "not_found",
          `model ${JSON.stringify(model)} is not in the MODELS bucket (no ${model}/manifest.json); GET /v1/models lists the models`,
        );
      }
      let manifest: BundleManifest;
      try {
        manifest = JSON.parse(new TextDecoder().decode(bytes)) as BundleManifest;
      } catch (cause) {
        throw new ClipEdgeError("integrity", `${model}/manifest.json is not valid JSON`, { cause });
      }
      if (!Array.isArray(manifest.graphs) || !manifest.tokenizer) {
        throw new ClipEdgeError(
          "integrity",
          `${model}/manifest.json has no graphs or tokenizer section`,
        );
      }
      return { manifest, hash: await sha256Hex(bytes) };
    },

    async getFile(model, file, expected) {
      const key = `${model}/${file}`;
      const bytes = await read(key);
      if (!bytes) throw missing(key);
      if (expected) {
        if (expected.bytes !== undefined && expected.bytes !== bytes.byteLength) {
          throw new ClipEdgeError(
            "integrity",
            `bundle file ${key} has ${bytes.byteLength} bytes, the manifest says ${expected.bytes}`,
          );
        }
        await checkSha256(key, bytes, expected.sha256);
      }
      return bytes;
    },

    async getFileInto(model, file, expected, target) {
      const key = `${model}/${file}`;
      let object: Awaited<ReturnType<BucketLike["get"]>>;
      try {
        object = await bucket.get(key);
      } catch (cause) {
        throw new ClipEdgeError("unavailable", `R2 bucket MODELS could not read ${key}`, { cause });
      }
      if (!object) throw missing(key);
      if (object.size !== expected.bytes || target.byteLength < expected.bytes) {
        throw new ClipEdgeError(
          "integrity",
          `bundle file ${key} has ${object.size} bytes, the manifest says ${expected.bytes} (read buffer ${target.byteLength})`,
        );
      }
      const bytes = object.body
        ? await readInto(object.body, target, expected.bytes, key)
        : copyInto(new Uint8Array(await object.arrayBuffer()), target, key);
      await checkSha256(key, bytes, expected.sha256);
      return bytes;
    },

    async getRange(model, file, range, expected) {
      const key = `${model}/${file}`;
      const what = `bytes ${range.offset}..${range.offset + range.length} of ${key}`;
      let bytes: Uint8Array;
      try {
        const object = await bucket.get(key, { range });
        if (!object) throw missing(key);
        if (object.size !== expected.bytes) {
          throw new ClipEdgeError(
            "integrity",
            `bundle file ${key} has ${object.size} bytes, the manifest says ${expected.bytes}`,
          );
        }
        bytes = new Uint8Array(await object.arrayBuffer());
      } catch (cause) {
        if (cause instanceof ClipEdgeError) throw cause;
        throw new ClipEdgeError("unavailable", `R2 bucket MODELS could not read ${what}`, {
          cause,
        });
      }
      if (bytes.byteLength !== range.length) {
        throw new ClipEdgeError(
          "integrity",
          `R2 returned ${bytes.byteLength} bytes for ${what} (object of ${expected.bytes} bytes)`,
        );
      }
      return bytes;
    },
  };
}

async function checkSha256(key: string, bytes: Uint8Array, expected: string): Promise<void> {
  const actual = await sha256Hex(bytes);
  if (actual !== expected.toLowerCase()) {
    throw new ClipEdgeError(
      "integrity",
      `bundle file ${key} has SHA-256 ${actual}, the manifest says ${expected}`,
    );
  }
}

/** Fills `target` from a byte stream with a BYOB reader; returns the view on the transferred buffer. */
async function readInto(
  body: ReadableStream<Uint8Array>,
  target: Uint8Array<ArrayBuffer>,
  size: number,
  key: string,
): Promise<Uint8Array<ArrayBuffer>> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: read it whole (allocates) and copy.
    return copyInto(new Uint8Array(await new Response(body).arrayBuffer()), target, key);
  }
  // Read before the first transfer: a detached view's byteOffset is 0.
  const start = target.byteOffset;
  let buffer = target.buffer;
  let offset = 0;
  try {
    while (offset < size) {
      const view = new Uint8Array(buffer, start + offset, size - offset);
      const { value, done } = await reader.read(view);
      if (value) {
        buffer = value.buffer as ArrayBuffer;
        offset += value.byteLength;
      }
      if (done) break;
    }
  } catch (cause) {
    throw new ClipEdgeError("unavailable", `R2 bucket MODELS could not read ${key}`, { cause });
  } finally {
    reader.releaseLock();
  }
  if (offset !== size) {
    throw new ClipEdgeError("integrity", `R2 returned ${offset} of the ${size} bytes of ${key}`);
  }
  return new Uint8Array(buffer, start, size);
}

function copyInto(
  bytes: Uint8Array,
  target: Uint8Array<ArrayBuffer>,
  key: string,
): Uint8Array<ArrayBuffer> {
  if (bytes.byteLength > target.byteLength) {
    throw new ClipEdgeError(
      "integrity",
      `bundle file ${key} has ${bytes.byteLength} bytes, more than the ${target.byteLength} expected`,
    );
  }
  target.set(bytes);
  return target.subarray(0, bytes.byteLength);
}
