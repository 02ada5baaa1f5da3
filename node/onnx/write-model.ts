import { createHash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { type ExternalLocation, encodeModel, type ModelDef } from "./onnx-proto.ts";

export interface WrittenFile {
  file: string;
  bytes: number;
  sha256: string;
}

export interface WriteModelOptions {
  /**
   * Move initializers of at least this many bytes to `<file>.data` (ONNX
   * external data). Needed past protobuf's 2 GB limit; undefined = inline.
   */
  externalDataThreshold?: number;
}

export interface WrittenModel extends WrittenFile {
  externalData?: WrittenFile;
}

function writeChunks(path: string, chunks: Iterable<Uint8Array>): WrittenFile {
  const hash = createHash("sha256");
  const fd = openSync(path, "w");
  let bytes = 0;
  try {
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.byteLength) offset += writeSync(fd, chunk, offset);
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  return { file: basename(path), bytes, sha256: hash.digest("hex") };
}

/**
 * Streams a model to disk chunk by chunk (no full in-memory copy), hashing as
 * it goes; optionally with large initializers in an external data file.
 */
export function writeModelFile(
  path: string,
  model: ModelDef,
  options: WriteModelOptions = {},
): WrittenModel {
  const threshold = options.externalDataThreshold;
  if (threshold === undefined) {
    return writeChunks(path, encodeModel(model).chunks);
  }
  const dataName = `${basename(path)}.data`;
  const locations = new Map<string, ExternalLocation>();
  const dataChunks: Uint8Array[] = [];
  let offset = 0;
  for (const init of model.initializers) {
    if (init.raw.byteLength < threshold) continue;
    const pad = (64 - (offset % 64)) % 64; // keep each tensor 64-byte aligned
    if (pad > 0) {
      dataChunks.push(new Uint8Array(pad));
      offset += pad;
    }
    locations.set(init.name, { location: dataName, offset, length: init.raw.byteLength });
    dataChunks.push(init.raw);
    offset += init.raw.byteLength;
  }
  const externalData = writeChunks(`${path}.data`, dataChunks);
  const graph = writeChunks(path, encodeModel(model, locations).chunks);
  return { ...graph, externalData };
}
