import { ClipEdgeError } from "../../conditioning/errors.ts";

/** The public Hugging Face hub. Overridden by `HF_ENDPOINT`, then by `--endpoint`. */
export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

const REPO_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Picks the hub endpoint: explicit flag, then HF_ENDPOINT, then the public hub (no trailing slash). */
export function pickEndpoint(flag: string | undefined, env: Record<string, string | undefined>) {
  const raw = flag ?? (env.HF_ENDPOINT?.trim() || undefined) ?? DEFAULT_HUB_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new ClipEdgeError("usage", `hub endpoint '${raw}' is not a URL`, { cause: error });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ClipEdgeError("usage", `hub endpoint '${raw}' must be an http(s) URL`);
  }
  return raw.replace(/\/+$/, "");
}

/** Picks the access token: HF_TOKEN, then the legacy HUGGING_FACE_HUB_TOKEN. */
export function pickToken(env: Record<string, string | undefined>): string | undefined {
  const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  return token && token.trim().length > 0 ? token.trim() : undefined;
}

/** Accepts `owner/name` (or a legacy single-segment `name`); rejects anything path-like. */
export function validateRepoId(repo: string): string {
  const parts = repo.split("/");
  const ok =
    parts.length >= 1 &&
    parts.length <= 2 &&
    parts.every((part) => REPO_PART.test(part) && !part.includes(".."));
  if (!ok) {
    throw new ClipEdgeError(
      "usage",
      `'${repo}' is not a hub repo id (expected owner/name, e.g. openai/clip-vit-large-patch14)`,
    );
  }
  return repo;
}

/** Normalises a repo-relative path ("a//b/" -> "a/b"); rejects absolute paths and "..". */
export function normalizeRepoPath(path: string, label = "path"): string {
  const parts = path.split("/").filter((part) => part.length > 0 && part !== ".");
  if (path.startsWith("/") || parts.some((part) => part === ".." || part.includes("\\"))) {
    throw new ClipEdgeError("usage", `${label} '${path}' must be a relative path inside the repo`);
  }
  return parts.join("/");
}

export function joinRepoPath(folder: string, name: string): string {
  return folder ? `${folder}/${name}` : name;
}

/** `${endpoint}/${repo}/resolve/${revision}/${path}`; the revision is one encoded segment. */
export function resolveFileUrl(
  endpoint: string,
  repo: string,
  revision: string,
  path: string,
): string {
  const encodedPath = path.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
}

/** The tokenizer folder beside a diffusers text encoder: text_encoder -> tokenizer, text_encoder_2 -> tokenizer_2. */
export function tokenizerFolderFor(subfolder: string): string {
  const parts = subfolder.split("/");
  const last = parts[parts.length - 1];
  const match = /^text_encoder(_\d+)?$/.exec(last ?? "");
  if (!match) return subfolder;
  parts[parts.length - 1] = `tokenizer${match[1] ?? ""}`;
  return parts.join("/");
}
