import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";
import { linkFromHfCache } from "./hf-cache.ts";
import { createHubClient, type FetchLike, type HubProgress } from "./hub-client.ts";
import { normalizeRepoPath, validateRepoId } from "./hub-url.ts";
import { PULL_RECORD_FILE, type PullEvent, type PullRecord, pullModel } from "./pull-model.ts";

/** Where a `--model` value points, and the folder to load. */
export type ModelSource =
  | { kind: "bundle"; format: "bundle"; dir: string }
  | { kind: "hf"; format: "hf"; dir: string }
  | {
      kind: "hub";
      format: "hf";
      dir: string;
      repo: string;
      revision: string;
      subfolder: string;
      /** True when this call downloaded it, false when the cache already held it. */
      pulled: boolean;
    };

export interface HubPullRequest {
  repo: string;
  revision: string;
  subfolder: string;
  outDir: string;
}

export interface ResolveModelOptions {
  /** Hub downloads go to `${cacheDir}/hub/<owner>--<name>/<revision>[/<subfolder>]`. */
  cacheDir: string;
  /** Never touch the network: a hub id must already be in the cache. */
  offline?: boolean;
  /** Downloads a hub repo (see createHubPuller); required unless offline or cached. */
  pull?: (request: HubPullRequest) => Promise<void>;
  /**
   * The standard Hugging Face hub cache (node/hub/hf-cache.ts): a snapshot found there is
   * linked into `cacheDir` instead of downloaded, offline too.
   */
  hfCache?: string;
}

export interface HubSpec {
  repo: string;
  revision: string;
  subfolder: string;
}

const HUB_SPEC = /^([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)((?:\/[\w.-]+)*)(?:@([\w./-]+))?$/;

/** `owner/name[/subfolder][@revision]`, e.g. `stabilityai/sdxl-base/text_encoder_2@main`. */
export function parseHubSpec(spec: string): HubSpec | undefined {
  const match = HUB_SPEC.exec(spec);
  if (!match || spec.includes("..")) return undefined;
  return {
    repo: validateRepoId(match[1]),
    subfolder: normalizeRepoPath((match[2] ?? "").slice(1), "subfolder"),
    revision: match[3] ?? "main",
  };
}

export function hubCacheDir(cacheDir: string, spec: HubSpec): string {
  const [owner, name] = spec.repo.includes("/") ? spec.repo.split("/") : ["", spec.repo];
  const base = join(
    resolve(cacheDir),
    "hub",
    `${owner}--${name}`,
    encodeURIComponent(spec.revision),
  );
  return spec.subfolder ? join(base, ...spec.subfolder.split("/")) : base;
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/** A finished pull: its record exists (written last) and every listed file has its recorded size. */
function isCompletePull(dir: string): boolean {
  const recordPath = join(dir, PULL_RECORD_FILE);
  if (!isFile(recordPath)) return false;
  try {
    const record = JSON.parse(readFileSync(recordPath, "utf8")) as PullRecord;
    return record.files.every(
      (file) => isFile(join(dir, file.name)) && statSync(join(dir, file.name)).size === file.size,
    );
  } catch {
    return false;
  }
}

function classifyFolder(dir: string, spec: string): ModelSource {
  if (isFile(join(dir, "manifest.json"))) return { kind: "bundle", format: "bundle", dir };
  const hasConfig = isFile(join(dir, "config.json"));
  const hasWeights =
    isFile(join(dir, "model.safetensors")) || isFile(join(dir, "model.safetensors.index.json"));
  if (hasConfig && hasWeights) return { kind: "hf", format: "hf", dir };
  if (hasConfig && isFile(join(dir, "pytorch_model.bin"))) {
    throw new ClipEdgeError(
      "unsupported",
      `model folder '${spec}' holds a pickle checkpoint (pytorch_model.bin), no model.safetensors: convert it to safetensors first`,
    );
  }
  throw new ClipEdgeError(
    "invalid_input",
    `model folder '${spec}' is neither a prepared bundle (manifest.json) nor a Hugging Face checkpoint (config.json + model.safetensors)`,
  );
}

/**
 * Decides what `--model SPEC` means: an existing folder (a prepared bundle with
 * manifest.json, or a Hugging Face checkpoint folder), else a hub id
 * `owner/name[/subfolder][@revision]` served from the cache or pulled into it.
 */
export async function resolveModelSource(
  spec: string,
  options: ResolveModelOptions,
): Promise<ModelSource> {
  const local = resolve(spec);
  if (existsSync(local)) {
    if (!statSync(local).isDirectory()) {
      throw new ClipEdgeError("invalid_input", `model '${spec}' is a file; pass its folder`);
    }
    return classifyFolder(local, spec);
  }
  const hub = parseHubSpec(spec);
  if (!hub) {
    throw new ClipEdgeError(
      "not_found",
      `model '${spec}' is not an existing folder nor a hub id (owner/name[/subfolder][@revision])`,
    );
  }
  const dir = hubCacheDir(options.cacheDir, hub);
  const source = { kind: "hub", format: "hf", dir, ...hub } as const;
  if (isCompletePull(dir)) return { ...source, pulled: false };
  if (options.hfCache && (await linkFromHfCache(options.hfCache, hub, dir))) {
    return { ...source, pulled: false };
  }
  if (options.offline || !options.pull) {
    throw new ClipEdgeError(
      "unavailable",
      `model '${spec}' is not in the cache (${dir}) and ${options.offline ? "offline mode is on" : "downloading is not enabled"}: pull it with 'clip-edge pull ${hub.repo} --out DIR', or pass --model with a local folder (a prepared bundle or a Hugging Face checkpoint folder)`,
      { details: { spec, cacheDir: dir } },
    );
  }
  await options.pull({ ...hub, outDir: dir });
  return { ...source, pulled: true };
}

export interface HubPullerOptions {
  endpoint: string;
  token?: string;
  fetch: FetchLike;
  onProgress?: (progress: HubProgress) => void;
  onEvent?: (event: PullEvent) => void;
}

/** The `pull` dependency of resolveModelSource, backed by the hub client. */
export function createHubPuller(options: HubPullerOptions) {
  const client = createHubClient(options);
  return async (request: HubPullRequest): Promise<void> => {
    try {
      await pullModel({ client, ...request, onEvent: options.onEvent });
    } catch (error) {
      // `--model` is the resolver's option (npm start, the origin), not `pull`'s.
      if (isClipEdgeError(error) && error.code === "network" && error.details?.offline) {
        throw new ClipEdgeError(
          "network",
          `${error.message}; or pass --model with a local folder (a prepared bundle or a Hugging Face checkpoint folder)`,
          { cause: error, details: error.details },
        );
      }
      throw error;
    }
  };
}
