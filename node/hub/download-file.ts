import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";
import type { HubClient, HubFileInfo } from "./hub-client.ts";

export type DownloadEvent =
  | { type: "skip"; path: string; size: number }
  | { type: "start"; path: string; size?: number; resumeFrom: number }
  | { type: "retry"; path: string; resumeFrom: number; reason: string }
  | { type: "done"; path: string; size: number };

export interface DownloadFileOptions {
  client: HubClient;
  info: HubFileInfo;
  /** Final local file; bytes go to `${destination}.incomplete` until verified. */
  destination: string;
  /** Attempts per file when the connection breaks mid-body (each resumes with Range). */
  maxAttempts?: number;
  /** Wait before retry N is N times this (default 1000 ms). */
  retryDelayMs?: number;
  onEvent?: (event: DownloadEvent) => void;
}

export interface DownloadedFile {
  path: string;
  destination: string;
  size: number;
  sha256: string;
  skipped: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

async function hashFile(path: string, prefix?: Uint8Array): Promise<Hash> {
  const hash = createHash("sha256");
  if (prefix) hash.update(prefix);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

async function sha256File(path: string): Promise<string> {
  return (await hashFile(path)).digest("hex");
}

async function gitBlobOid(path: string, size: number): Promise<string> {
  const hash = createHash("sha1");
  hash.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A complete local copy is kept only when it can be checked against the hub's ETag. */
async function verifiedCopy(destination: string, info: HubFileInfo): Promise<string | undefined> {
  const size = await sizeOf(destination);
  if (size === undefined || info.size === undefined || size !== info.size) return undefined;
  if (info.sha256) {
    const sha = await sha256File(destination);
    return sha === info.sha256 ? sha : undefined;
  }
  if (info.gitOid && (await gitBlobOid(destination, size)) === info.gitOid) {
    return sha256File(destination);
  }
  return undefined;
}

function isRetryable(error: unknown): boolean {
  return isClipEdgeError(error) && error.details?.retryable === true;
}

/**
 * Downloads one hub file to disk: skips a verified existing copy, resumes
 * `FILE.incomplete` with `Range: bytes=N-` (restarting when the server answers 200),
 * retries broken connections, and checks size and the LFS SHA-256 before the rename.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadedFile> {
  const { client, info, destination } = options;
  const path = info.ref.path;
  const emit = options.onEvent ?? (() => {});
  const existing = await verifiedCopy(destination, info);
  if (existing !== undefined) {
    emit({ type: "skip", path, size: info.size ?? 0 });
    return { path, destination, size: info.size ?? 0, sha256: existing, skipped: true };
  }
  await mkdir(dirname(destination), { recursive: true });
  const partial = `${destination}.incomplete`;
  let offset = (await sizeOf(partial)) ?? 0;
  if (info.size !== undefined && offset >= info.size) offset = 0;
  let hash = offset > 0 ? await hashFile(partial) : createHash("sha256");
  emit({ type: "start", path, size: info.size, resumeFrom: offset });

  const maxAttempts = options.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    const handle = await open(partial, offset > 0 ? "a" : "w");
    try {
      const body = await client.openFile(info.ref, { offset });
      if (offset > 0 && (body.status !== 206 || body.start !== offset)) {
        // The server ignored the Range (or answered another one): start over.
        const wanted = offset;
        await handle.truncate(0);
        offset = 0;
        hash = createHash("sha256");
        if (body.status !== 200) {
          await body.cancel();
          throw new ClipEdgeError(
            "network",
            `hub answered an unexpected range for '${path}' (wanted bytes ${wanted}-, got ${body.status} from ${body.start})`,
            { details: { retryable: true } },
          );
        }
      }
      for await (const chunk of body.chunks) {
        await handle.write(chunk);
        hash.update(chunk);
        offset += chunk.byteLength;
      }
      break;
    } catch (error) {
      if (isClipEdgeError(error) && error.details?.status === 416 && attempt < maxAttempts) {
        // The partial file is not a prefix the server can continue: start over.
        await handle.truncate(0);
        offset = 0;
        hash = createHash("sha256");
        continue;
      }
      if (!isRetryable(error) || attempt >= maxAttempts) throw error;
      emit({ type: "retry", path, resumeFrom: offset, reason: (error as Error).message });
      await sleep((options.retryDelayMs ?? 1000) * attempt);
    } finally {
      await handle.close();
    }
  }

  if (info.size !== undefined && offset !== info.size) {
    await rm(partial, { force: true });
    throw new ClipEdgeError(
      "integrity",
      `'${path}' in ${info.ref.repo}: received ${offset} bytes but the hub announced ${info.size}; the partial file was deleted, run the command again`,
    );
  }
  const sha256 = hash.digest("hex");
  if (info.sha256 && sha256 !== info.sha256) {
    await rm(partial, { force: true });
    throw new ClipEdgeError(
      "integrity",
      `'${path}' in ${info.ref.repo}: SHA-256 ${sha256} does not match the hub's LFS ETag ${info.sha256}; the corrupt download was deleted, run the command again`,
      { details: { expected: info.sha256, actual: sha256 } },
    );
  }
  await rename(partial, destination);
  emit({ type: "done", path, size: offset });
  return { path, destination, size: offset, sha256, skipped: false };
}
