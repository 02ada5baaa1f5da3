/**
 * Reuse of the standard Hugging Face cache (what `huggingface_hub`, transformers and
 * diffusers write: `<hub cache>/models--<owner>--<name>/{refs,snapshots,blobs}`), so a
 * checkpoint a Python user already downloaded is served without a download.
 *
 * A snapshot that holds config.json, the safetensors weights and the tokenizer files is
 * linked (symbolic links, no copy) into clip-edge's own cache folder with a pull record,
 * so it is then found like any finished `pull`.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { TOKENIZER_FILES } from "../prepare/bundle-tokenizer.ts";
import { joinRepoPath, tokenizerFolderFor } from "./hub-url.ts";
import { PULL_RECORD_FILE, type PullRecord } from "./pull-model.ts";
import type { HubSpec } from "./resolve-model.ts";
import { shardNames } from "./shard-index.ts";

/** `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (huggingface_hub's rules). */
export function hfHubCacheDir(env: Record<string, string | undefined>, homeDir: string): string {
  if (env.HF_HUB_CACHE?.trim()) return env.HF_HUB_CACHE.trim();
  const home =
    env.HF_HOME?.trim() ||
    join(env.XDG_CACHE_HOME?.trim() || join(homeDir, ".cache"), "huggingface");
  return join(home, "hub");
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
const COMMIT = /^[0-9a-f]{40}$/;

/** The snapshot folder of `spec` in the HF cache, when its revision is known there. */
export function hfSnapshotDir(hubCache: string, spec: HubSpec): string | undefined {
  const repoDir = join(hubCache, `models--${spec.repo.replace("/", "--")}`);
  let commit = spec.revision;
  if (!COMMIT.test(commit)) {
    const ref = join(repoDir, "refs", ...spec.revision.split("/"));
    if (!isFile(ref)) return undefined;
    commit = readFileSync(ref, "utf8").trim();
    if (!COMMIT.test(commit)) return undefined;
  }
  const dir = join(repoDir, "snapshots", commit);
  return existsSync(dir) ? dir : undefined;
}

/** Repo paths -> local names of the files a pull would fetch, when all are in the snapshot. */
async function snapshotFiles(snapshot: string, subfolder: string) {
  const files = new Map<string, string>();
  const need = (path: string, name: string) => {
    if (!isFile(join(snapshot, path))) return false;
    files.set(name, path);
    return true;
  };
  if (!need(joinRepoPath(subfolder, "config.json"), "config.json")) return undefined;
  if (!need(joinRepoPath(subfolder, "model.safetensors"), "model.safetensors")) {
    const index = joinRepoPath(subfolder, "model.safetensors.index.json");
    if (!need(index, "model.safetensors.index.json")) return undefined;
    const shards = await shardNames(join(snapshot, index), index);
    if (!shards.every((s) => need(joinRepoPath(subfolder, s), s))) return undefined;
  }
  const tokenizer = tokenizerFolderFor(subfolder);
  for (const name of TOKENIZER_FILES) need(joinRepoPath(tokenizer, name), name);
  need(joinRepoPath(subfolder, "preprocessor_config.json"), "preprocessor_config.json");
  const has = (n: string) => files.has(n);
  if (!(has("vocab.json") && has("merges.txt")) && !has("tokenizer.json")) return undefined;
  return files;
}

/** An LFS blob is named by its SHA-256 (the weights: no need to read them); others are hashed. */
async function blobSha256(path: string): Promise<string> {
  const blob = basename(realpathSync(path));
  if (/^[0-9a-f]{64}$/.test(blob)) return blob;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await readFile(path)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Links `spec` from the HF cache into `outDir` (clip-edge's cache folder for it) and
 * writes the pull record. Returns false, touching nothing, when the HF cache lacks it.
 */
export async function linkFromHfCache(
  hubCache: string,
  spec: HubSpec,
  outDir: string,
): Promise<boolean> {
  const snapshot = hfSnapshotDir(hubCache, spec);
  const files = snapshot ? await snapshotFiles(snapshot, spec.subfolder) : undefined;
  if (!snapshot || !files) return false;
  await mkdir(outDir, { recursive: true });
  const record: PullRecord = {
    repo: spec.repo,
    revision: spec.revision,
    commit: snapshot.slice(snapshot.lastIndexOf("/") + 1),
    subfolder: spec.subfolder,
    endpoint: `hf-cache:${hubCache}`,
    files: [],
  };
  for (const [name, path] of files) {
    const target = join(snapshot, path);
    await rm(join(outDir, name), { force: true });
    await symlink(target, join(outDir, name));
    record.files.push({
      name,
      path,
      size: statSync(target).size,
      sha256: await blobSha256(target),
    });
  }
  await writeFile(join(outDir, PULL_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return true;
}
