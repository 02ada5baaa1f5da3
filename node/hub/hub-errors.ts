import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";

export interface HubRef {
  repo: string;
  revision: string;
  path: string;
}

const OFFLINE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function where(ref: HubRef): string {
  return `'${ref.path}' in ${ref.repo} at revision '${ref.revision}'`;
}

/** Turns a non-2xx hub response into one ClipEdgeError naming the repo, revision and path. */
export function hubResponseError(
  response: Response,
  ref: HubRef,
  context: { endpoint: string; hasToken: boolean },
): ClipEdgeError {
  const status = response.status;
  const hubCode = response.headers.get("x-error-code") ?? undefined;
  const hubMessage = response.headers.get("x-error-message") ?? undefined;
  const details = { status, hubCode, repo: ref.repo, revision: ref.revision, path: ref.path };
  if (status === 401 || status === 403) {
    const tokenHint = context.hasToken
      ? "check that HF_TOKEN is valid and has access to it"
      : "set HF_TOKEN to a Hugging Face access token";
    if (hubCode === "GatedRepo") {
      return new ClipEdgeError(
        "unauthorized",
        `${ref.repo} is a gated repo (HTTP ${status}): accept its terms on the hub, then ${tokenHint}`,
        { details },
      );
    }
    if (hubCode === "RepoNotFound") {
      return new ClipEdgeError(
        "unauthorized",
        `repo ${ref.repo} was not found on ${context.endpoint} or is private (HTTP ${status}): check the id, or ${tokenHint}`,
        { details },
      );
    }
    return new ClipEdgeError(
      "unauthorized",
      `access to ${where(ref)} was denied (HTTP ${status}): ${tokenHint}`,
      { details },
    );
  }
  if (status === 404) {
    if (hubCode === "RepoNotFound") {
      return new ClipEdgeError(
        "not_found",
        `repo ${ref.repo} was not found on ${context.endpoint}`,
        {
          details,
        },
      );
    }
    if (hubCode === "RevisionNotFound") {
      return new ClipEdgeError(
        "not_found",
        `revision '${ref.revision}' was not found in ${ref.repo} (a branch, tag or commit hash)`,
        { details },
      );
    }
    return new ClipEdgeError("not_found", `file ${where(ref)} was not found (HTTP 404)`, {
      details: { ...details, entryNotFound: true },
    });
  }
  const suffix = hubMessage ? `: ${hubMessage}` : "";
  return new ClipEdgeError(
    "network",
    `hub answered HTTP ${status} for ${where(ref)} at ${context.endpoint}${suffix}`,
    { details: { ...details, retryable: status >= 500 || status === 429 } },
  );
}

/** True for a 404 about one file (the repo and revision exist), so optional files can be skipped. */
export function isEntryNotFound(error: unknown): boolean {
  return isClipEdgeError(error) && error.details?.entryNotFound === true;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "ERR_INVALID_ARG_TYPE") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A fetch that threw before any response: the endpoint cannot be reached. */
export function connectError(error: unknown, url: string, endpoint: string): ClipEdgeError {
  if (isClipEdgeError(error)) return error;
  const code = errorCode(error) ?? "fetch failed";
  const host = new URL(url).host;
  const endpointHost = new URL(endpoint).host;
  const offline = OFFLINE_CODES.has(code);
  const target =
    host === endpointHost ? `the hub at ${endpoint}` : `${host} (redirected from ${endpoint})`;
  const hint = offline ? "; check the network, or set HF_ENDPOINT to a reachable mirror" : "";
  return new ClipEdgeError("network", `cannot reach ${target} (${code})${hint}`, {
    cause: error,
    details: { url, code, offline, retryable: !offline },
  });
}

/** The connection broke while a body was streaming; the caller may resume with a Range request. */
export function interruptedError(error: unknown, ref: HubRef, received: number): ClipEdgeError {
  if (isClipEdgeError(error)) return error;
  const code = errorCode(error) ?? (error as Error)?.message ?? "unknown";
  return new ClipEdgeError(
    "network",
    `download of ${where(ref)} was interrupted after ${received} bytes (${code})`,
    { cause: error, details: { retryable: true, interrupted: true } },
  );
}
