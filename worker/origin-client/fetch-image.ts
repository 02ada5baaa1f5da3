/**
 * Fetches an image by URL for the worker (the origin never fetches URLs): http/https only,
 * redirects followed manually (each hop re-checked, at most `maxRedirects`), the size cap
 * enforced while streaming (and from Content-Length up front), `Content-Type: image/*`
 * required, a timeout over the whole transfer (`AbortSignal.timeout`, joined with the
 * caller's signal). Hosts that are obviously private (localhost, loopback, RFC 1918,
 * link-local, .internal/.local; trailing dots ignored), for the first URL and every redirect,
 * are refused unless `allowPrivateHosts` is set.
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { readCappedStream } from "../../conditioning/io/read-capped-stream.ts";
import type { FetchLike } from "./origin-client.ts";

export interface FetchImageOptions {
  fetch: FetchLike;
  maxBytes: number;
  maxRedirects?: number;
  timeoutMs?: number;
  allowPrivateHosts?: boolean;
  signal?: AbortSignal;
}

export interface FetchedImage {
  bytes: Uint8Array;
  contentType: string;
  /** The URL the bytes came from, after redirects. */
  url: string;
}

const MAX_URL_LENGTH = 4096;

/**
 * The host as the resolver will see it: no IPv6 brackets, lower case, no trailing dots
 * (`localhost.` and `LOCALHOST.` are localhost; the URL parser has already turned
 * `0x7f.1`, `2130706433` or `127.1` into `127.0.0.1`).
 */
export function normaliseHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
    .replace(/\.+$/, "");
}

export function isPrivateHost(hostname: string): boolean {
  const host = normaliseHost(hostname);
  if (
    host === "" ||
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host.endsWith(".local") ||
    host.endsWith(".internal")
  ) {
    return true;
  }
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      a >= 224 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (host.includes(":")) {
    // "::" prefix: unspecified, loopback, IPv4-mapped (::ffff:) and IPv4-compatible;
    // 64:ff9b: NAT64 of any IPv4; fc/fd unique local; fe80-febf link/site local.
    return (
      host.startsWith("::") ||
      host.startsWith("64:ff9b:") ||
      /^f[cd]/.test(host) ||
      /^fe[89ab]/.test(host)
    );
  }
  return false;
}

function checkUrl(raw: string, allowPrivate: boolean, label: string): URL {
  if (raw.length > MAX_URL_LENGTH) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: URL is ${raw.length} characters, the limit is ${MAX_URL_LENGTH}`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ClipEdgeError("invalid_input", `${label}: "${raw.slice(0, 200)}" is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: only http and https URLs are fetched, got ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw new ClipEdgeError("invalid_input", `${label}: URLs with credentials are not fetched`);
  }
  if (!allowPrivate && isPrivateHost(url.hostname)) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: host ${url.hostname} is private and not fetched`,
    );
  }
  return url;
}

async function readCapped(
  response: Response,
  maxBytes: number,
  label: string,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ClipEdgeError(
      "too_large",
      `${label}: image is ${declared} bytes, the limit is ${maxBytes}`,
      {
        details: { bytes: declared, maxBytes },
      },
    );
  }
  return readCappedStream(
    response.body,
    maxBytes,
    () =>
      new ClipEdgeError("too_large", `${label}: image exceeds the limit of ${maxBytes} bytes`, {
        details: { maxBytes },
      }),
  );
}

export async function fetchImage(
  rawUrl: string,
  options: FetchImageOptions,
): Promise<FetchedImage> {
  const maxRedirects = options.maxRedirects ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const allowPrivate = options.allowPrivateHosts ?? false;
  const label = `image URL ${rawUrl.slice(0, 200)}`;
  let url = checkUrl(rawUrl, allowPrivate, label);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await options.fetch(url.toString(), {
        method: "GET",
        redirect: "manual",
        headers: { accept: "image/*" },
        signal,
      });
    } catch (error) {
      throw new ClipEdgeError(
        "invalid_request",
        timeout.aborted
          ? `${label}: no answer within ${timeoutMs} ms`
          : `${label}: fetch failed (${(error as Error)?.message ?? error})`,
        { cause: error },
      );
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get("location");
      if (!location)
        throw new ClipEdgeError(
          "invalid_request",
          `${label}: HTTP ${response.status} without Location`,
        );
      if (hop >= maxRedirects) {
        throw new ClipEdgeError("invalid_request", `${label}: more than ${maxRedirects} redirects`);
      }
      url = checkUrl(new URL(location, url).toString(), allowPrivate, label);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new ClipEdgeError("invalid_request", `${label}: answered HTTP ${response.status}`, {
        details: { status: response.status },
      });
    }
    const contentType = (response.headers.get("content-type") ?? "")
      .split(";")[0]
      .trim()
      .toLowerCase();
    if (!contentType.startsWith("image/")) {
      await response.body?.cancel().catch(() => {});
      throw new ClipEdgeError(
        "unsupported_media_type",
        `${label}: content type "${contentType || "(none)"}" is not an image`,
      );
    }
    try {
      const bytes = await readCapped(response, options.maxBytes, label);
      if (bytes.length === 0) throw new ClipEdgeError("invalid_request", `${label}: empty body`);
      return { bytes, contentType, url: url.toString() };
    } catch (error) {
      if (error instanceof ClipEdgeError) throw error;
      throw new ClipEdgeError(
        "invalid_request",
        timeout.aborted
          ? `${label}: transfer did not finish within ${timeoutMs} ms`
          : `${label}: transfer failed`,
        { cause: error },
      );
    }
  }
}
