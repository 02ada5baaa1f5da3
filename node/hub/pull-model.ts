import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";
import { TOKENIZER_FILES } from "../prepare/bundle-tokenizer.ts";
import { type DownloadEvent, type DownloadedFile, downloadFile } from "./download-file.ts";
import type { HubClient, HubFileInfo } from "./hub-client.ts";
import { isEntryNotFound } from "./hub-errors.ts";
import { joinRepoPath, normalizeRepoPath, tokenizerFolderFor, validateRepoId } from "./hub-url.ts";
import { acquirePullLock } from "./pull-lock.ts";
import { shardNames } from "./shard-index.ts";

/** Written into the output folder: where the files came from and their hashes. */
export const PULL_RECORD_FILE = "clip-edge-pull.json";

export type PullEvent = DownloadEvent | { type: "missing"; path: string };

export interface PullModelOptions {
  client: HubClient;
  repo: string;
  revision?: string;
  /** e.g. "text_encoder" or "text_encoder_2" of a Stable Diffusion repo. */
  subfolder?: string;
  outDir: string;
  onEvent?: (event: PullEvent) => void;
  /** Passed to downloadFile (tests shorten it). */
  retryDelayMs?: number;
}

export interface PulledFile extends DownloadedFile {
  /** Local name inside outDir. */
  name: string;
  /** The ETag the hub sent (LFS SHA-256 or git blob hash). */
  etag?: string;
}

export interface PullRecord {
  repo: string;
  revision: string;
  commit?: string;
  subfolder: string;
  endpoint: string;
  files: { name: string; path: string; size: number; sha256: string; etag?: string }[];
}

export interface PullResult extends PullRecord {
  outDir: string;
  files: PulledFile[];
}

/**
 * Pulls one CLIP text/vision checkpoint in Hugging Face layout into a flat folder:
 * config.json, model.safetensors (or the index and its shards), tokenizer files
 * (from tokenizer/ or tokenizer_2/ beside a diffusers text_encoder/ folder),
 * preprocessor_config.json, and a `clip-edge-pull.json` record.
 */
export async function pullModel(options: PullModelOptions): Promise<PullResult> {
  const { client, outDir } = options;
  const repo = validateRepoId(options.repo);
  const revision = options.revision ?? "main";
  if (revision.trim() === "" || revision.includes("..")) {
    throw new ClipEdgeError("usage", `revision '${revision}' is not a branch, tag or commit`);
  }
  const subfolder = normalizeRepoPath(options.subfolder ?? "", "--subfolder");
  const tokenizerFolder = tokenizerFolderFor(subfolder);
  const files: PulledFile[] = [];
  let commit: string | undefined;

  // Every file after config.json is fetched at the commit config.json resolved to, so a
  // branch that moves mid-pull cannot mix two commits.
  let pinned = revision;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const info = async (path: string): Promise<HubFileInfo> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await client.getFileInfo({ repo, revision: pinned, path });
      } catch (error) {
        const retryable = isClipEdgeError(error) && error.details?.retryable === true;
        if (!retryable || attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
      }
    }
  };
  const infoIfPresent = async (path: string): Promise<HubFileInfo | undefined> => {
    try {
      return await info(path);
    } catch (error) {
      if (isEntryNotFound(error)) return undefined;
      throw error;
    }
  };
  const fetchInto = async (fileInfo: HubFileInfo, name: string) => {
    commit ??= fileInfo.commit;
    const done = await downloadFile({
      client,
      info: fileInfo,
      destination: join(outDir, name),
      onEvent: options.onEvent,
      retryDelayMs: options.retryDelayMs,
    });
    files.push({ ...done, name, etag: fileInfo.etag });
    return done;
  };
  const localName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

  // config.json first: it surfaces 401/404 for the repo or revision before anything else.
  const configInfo = await info(joinRepoPath(subfolder, "config.json"));
  if (configInfo.commit && /^[0-9a-f]{40}$/.test(configInfo.commit)) pinned = configInfo.commit;
  const lock = await acquirePullLock(outDir);
  try {
    await fetchInto(configInfo, "config.json");

    const single = await infoIfPresent(joinRepoPath(subfolder, "model.safetensors"));
    if (single) {
      await fetchInto(single, "model.safetensors");
    } else {
      const indexPath = joinRepoPath(subfolder, "model.safetensors.index.json");
      const index = await infoIfPresent(indexPath);
      if (!index) throw await missingWeightsError(subfolder, infoIfPresent, repo, revision);
      const indexFile = await fetchInto(index, "model.safetensors.index.json");
      for (const shard of await shardNames(indexFile.destination, `${repo}/${indexPath}`)) {
        await fetchInto(await info(joinRepoPath(subfolder, shard)), shard);
      }
    }

    const found = new Set<string>();
    // Tokenizer and preprocessing files, fetched when present (each may 404).
    for (const name of TOKENIZER_FILES) {
      const path = joinRepoPath(tokenizerFolder, name);
      const fileInfo = await infoIfPresent(path);
      if (!fileInfo) {
        options.onEvent?.({ type: "missing", path });
        continue;
      }
      await fetchInto(fileInfo, localName(path));
      found.add(name);
    }
    if (!(found.has("vocab.json") && found.has("merges.txt")) && !found.has("tokenizer.json")) {
      throw new ClipEdgeError(
        "not_found",
        `${repo} at revision '${revision}' has no tokenizer in '${tokenizerFolder || "/"}' (need vocab.json + merges.txt, or tokenizer.json)`,
      );
    }
    const preprocessorPath = joinRepoPath(subfolder, "preprocessor_config.json");
    const preprocessor = await infoIfPresent(preprocessorPath);
    if (preprocessor) await fetchInto(preprocessor, "preprocessor_config.json");
    else options.onEvent?.({ type: "missing", path: preprocessorPath });

    const record: PullRecord = {
      repo,
      revision,
      commit,
      subfolder,
      endpoint: client.endpoint,
      files: files.map(({ name, path, size, sha256, etag }) => ({
        name,
        path,
        size,
        sha256,
        etag,
      })),
    };
    await writeFile(join(outDir, PULL_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    return { ...record, outDir, files };
  } finally {
    await lock.release();
  }
}

async function missingWeightsError(
  subfolder: string,
  infoIfPresent: (path: string) => Promise<HubFileInfo | undefined>,
  repo: string,
  revision: string,
): Promise<ClipEdgeError> {
  for (const name of ["pytorch_model.bin", "pytorch_model.bin.index.json"]) {
    const path = joinRepoPath(subfolder, name);
    if (await infoIfPresent(path)) {
      return new ClipEdgeError(
        "unsupported",
        `${repo} at revision '${revision}' has only a pickle checkpoint ('${path}'), no model.safetensors: clip-edge does not load pickle files; convert it to safetensors (e.g. the hub's "convert to safetensors" Space, or a revision such as refs/pr/N that adds one) and pull that revision`,
        { details: { repo, revision, path } },
      );
    }
  }
  const where = subfolder ? `'${subfolder}/'` : "the repo root";
  return new ClipEdgeError(
    "not_found",
    `${repo} at revision '${revision}' has no model.safetensors or model.safetensors.index.json in ${where}${subfolder ? "" : " (for a Stable Diffusion repo pass --subfolder text_encoder)"}`,
    { details: { repo, revision, subfolder } },
  );
}
