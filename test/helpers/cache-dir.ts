/** Where tests keep what they build once and reuse (the bench's cache: `CLIP_EDGE_CACHE`, else ~/.cache/clip-edge). */
import { homedir } from "node:os";
import { modelSourceOptionsFromEnv } from "../../node/hub/model-source-env.ts";

export function benchCacheDir(): string {
  return modelSourceOptionsFromEnv(
    { ...process.env, CLIP_EDGE_OFFLINE: "1" },
    { homeDir: homedir(), fetch },
  ).cacheDir;
}
