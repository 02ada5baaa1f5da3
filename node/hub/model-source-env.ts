import { join } from "node:path";
import { hfHubCacheDir } from "./hf-cache.ts";
import type { FetchLike, HubProgress } from "./hub-client.ts";
import { pickEndpoint, pickToken } from "./hub-url.ts";
import type { PullEvent } from "./pull-model.ts";
import { createHubPuller, type ResolveModelOptions } from "./resolve-model.ts";

export interface ModelSourceEnvDeps {
  fetch: FetchLike;
  /** The user's home folder (os.homedir()), used when no cache variable is set. */
  homeDir: string;
  onProgress?: (progress: HubProgress) => void;
  onEvent?: (event: PullEvent) => void;
}

const TRUE = new Set(["1", "true", "yes", "on"]);

/**
 * resolveModelSource options from the environment:
 * cache `CLIP_EDGE_CACHE`, else `$XDG_CACHE_HOME/clip-edge`, else `~/.cache/clip-edge`;
 * offline when `CLIP_EDGE_OFFLINE` or `HF_HUB_OFFLINE` is 1/true/yes/on;
 * downloads from `HF_ENDPOINT` (default the public hub) with `HF_TOKEN`;
 * snapshots already in the standard Hugging Face cache (`HF_HUB_CACHE`, `HF_HOME/hub`,
 * `~/.cache/huggingface/hub`) are linked instead of downloaded.
 */
export function modelSourceOptionsFromEnv(
  env: Record<string, string | undefined>,
  deps: ModelSourceEnvDeps,
): ResolveModelOptions {
  const cacheDir =
    env.CLIP_EDGE_CACHE?.trim() ||
    join(env.XDG_CACHE_HOME?.trim() || join(deps.homeDir, ".cache"), "clip-edge");
  const flag = (name: string) => TRUE.has((env[name] ?? "").trim().toLowerCase());
  const offline = flag("CLIP_EDGE_OFFLINE") || flag("HF_HUB_OFFLINE");
  return {
    cacheDir,
    offline,
    hfCache: hfHubCacheDir(env, deps.homeDir),
    pull: offline
      ? undefined
      : createHubPuller({
          endpoint: pickEndpoint(undefined, env),
          token: pickToken(env),
          fetch: deps.fetch,
          onProgress: deps.onProgress,
          onEvent: deps.onEvent,
        }),
  };
}
