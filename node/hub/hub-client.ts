import { ClipEdgeError } from "../../conditioning/errors.ts";
import { connectError, type HubRef, hubResponseError, interruptedError } from "./hub-errors.ts";
import { resolveFileUrl } from "./hub-url.ts";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HubProgress {
  /** Repo-relative path being downloaded. */
  path: string;
  /** Bytes of the file present so far (including a resumed prefix). */
  received: number;
  total?: number;
}

export interface HubClientOptions {
  /** e.g. https://huggingface.co (no trailing slash). */
  endpoint: string;
  /** Sent as `Authorization: Bearer` to the endpoint only, never to a redirect on another origin. */
  token?: string;
  fetch: FetchLike;
  onProgress?: (progress: HubProgress) => void;
  maxRedirects?: number;
  /** Abort (as a retryable network error) when no response or body bytes arrive for this long. Default 60 s. */
  idleTimeoutMs?: number;
}

/** What a HEAD on `resolve/<rev>/<path>` tells about a file. */
export interface HubFileInfo {
  ref: HubRef;
  size?: number;
  /** The ETag as sent, without quotes or W/. */
  etag?: string;
  /** Set when the ETag is an LFS object id (SHA-256 of the content). */
  sha256?: string;
  /** Set when the ETag is a git blob hash (SHA-1 of "blob <size>\0" + content). */
  gitOid?: string;
  /** X-Repo-Commit: the commit the revision resolved to. */
  commit?: string;
}

export interface HubBody {
  /** 200 (whole file) or 206 (from `start`). */
  status: number;
  start: number;
  total?: number;
  chunks: AsyncIterable<Uint8Array>;
  /** Drops the body without reading it. */
  cancel(): Promise<void>;
}

export interface HubClient {
  readonly endpoint: string;
  fileUrl(ref: HubRef): string;
  /** HEAD the file; throws ClipEdgeError (not_found / unauthorized / network). */
  getFileInfo(ref: HubRef): Promise<HubFileInfo>;
  /** GET the file (following redirects), from byte `offset` when offset > 0. */
  openFile(ref: HubRef, options?: { offset?: number }): Promise<HubBody>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Aborts a request that goes quiet; `arm()` restarts the countdown. */
function createWatchdog(ms: number, what: string) {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => clearTimeout(timer);
  const arm = () => {
    stop();
    timer = setTimeout(() => {
      controller.abort(
        new ClipEdgeError("network", `no data for ${ms / 1000} s while fetching ${what}`, {
          details: { retryable: true, stalled: true },
        }),
      );
    }, ms);
    timer.unref?.();
  };
  return { signal: controller.signal, arm, stop };
}

function unquote(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "");
}

function parseSize(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

function classifyEtag(info: HubFileInfo): HubFileInfo {
  const etag = info.etag?.toLowerCase();
  if (etag && /^[0-9a-f]{64}$/.test(etag)) info.sha256 = etag;
  else if (etag && /^[0-9a-f]{40}$/.test(etag)) info.gitOid = etag;
  return info;
}

export function createHubClient(options: HubClientOptions): HubClient {
  const endpoint = options.endpoint.replace(/\/+$/, "");
  const endpointOrigin = new URL(endpoint).origin;
  const maxRedirects = options.maxRedirects ?? 10;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const context = { endpoint, hasToken: options.token !== undefined };

  function headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = {
      "accept-encoding": "identity",
      "user-agent": "clip-edge/0.1",
      ...extra,
    };
    if (options.token && new URL(url).origin === endpointOrigin) {
      headers.authorization = `Bearer ${options.token}`;
    }
    return headers;
  }

  async function send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await options.fetch(url, { ...init, redirect: "manual" });
    } catch (error) {
      throw connectError(error, url, endpoint);
    }
  }

  /** Follows redirects by hand so the token never leaves the endpoint's origin. */
  async function request(
    ref: HubRef,
    method: "GET" | "HEAD",
    extra: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Response> {
    let url = resolveFileUrl(endpoint, ref.repo, ref.revision, ref.path);
    for (let hop = 0; ; hop += 1) {
      const response = await send(url, { method, headers: headersFor(url, extra), signal });
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || !location) return response;
      const next = new URL(location, url).toString();
      // A HEAD stops at the LFS redirect (it carries the SHA-256 and size) or at another
      // origin; only same-origin moves (renamed repos) are followed.
      const lfsPointer = response.headers.has("x-linked-etag");
      if (method === "HEAD" && (lfsPointer || new URL(next).origin !== endpointOrigin)) {
        return response;
      }
      await response.body?.cancel();
      if (hop >= maxRedirects) {
        throw new ClipEdgeError(
          "network",
          `too many redirects (${maxRedirects}) for '${ref.path}' in ${ref.repo} at ${endpoint}`,
        );
      }
      url = next;
    }
  }

  async function getFileInfo(ref: HubRef): Promise<HubFileInfo> {
    const watchdog = createWatchdog(idleTimeoutMs, `'${ref.path}' from ${endpoint}`);
    watchdog.arm();
    let response: Response;
    try {
      response = await request(ref, "HEAD", {}, watchdog.signal);
      await response.body?.cancel();
    } finally {
      watchdog.stop();
    }
    const h = response.headers;
    const commit = h.get("x-repo-commit") ?? undefined;
    if (REDIRECTS.has(response.status)) {
      // Only the X-Linked-* headers describe the target; the redirect's own ETag and
      // Content-Length describe the (empty) redirect body.
      return classifyEtag({
        ref,
        etag: unquote(h.get("x-linked-etag")),
        size: parseSize(h.get("x-linked-size")),
        commit,
      });
    }
    if (response.ok) {
      return classifyEtag({
        ref,
        etag: unquote(h.get("x-linked-etag") ?? h.get("etag")),
        size: parseSize(h.get("x-linked-size")) ?? parseSize(h.get("content-length")),
        commit,
      });
    }
    throw hubResponseError(response, ref, context);
  }

  async function openFile(ref: HubRef, open: { offset?: number } = {}): Promise<HubBody> {
    const offset = open.offset ?? 0;
    const range: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const watchdog = createWatchdog(idleTimeoutMs, `'${ref.path}' from ${endpoint}`);
    watchdog.arm();
    let response: Response;
    try {
      response = await request(ref, "GET", range, watchdog.signal);
    } catch (error) {
      watchdog.stop();
      throw error;
    }
    if (response.status !== 200 && response.status !== 206) {
      watchdog.stop();
      await response.body?.cancel();
      throw hubResponseError(response, ref, context);
    }
    let start = 0;
    let total = parseSize(response.headers.get("content-length"));
    if (response.status === 206) {
      const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(
        response.headers.get("content-range")?.trim() ?? "",
      );
      start = match ? Number(match[1]) : -1;
      total = match && match[3] !== "*" ? Number(match[3]) : undefined;
    }
    const body = response.body;
    const onProgress = options.onProgress;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let received = start;
      try {
        if (!body) return;
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
          watchdog.arm();
          received += chunk.byteLength;
          onProgress?.({ path: ref.path, received, total });
          yield chunk;
        }
      } catch (error) {
        throw interruptedError(error, ref, received);
      } finally {
        watchdog.stop();
      }
    }
    const cancel = async () => {
      watchdog.stop();
      await body?.cancel().catch(() => {});
    };
    return { status: response.status, start, total, chunks: chunks(), cancel };
  }

  return {
    endpoint,
    fileUrl: (ref) => resolveFileUrl(endpoint, ref.repo, ref.revision, ref.path),
    getFileInfo,
    openFile,
  };
}
