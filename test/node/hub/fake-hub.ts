import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One repo served by the fake hub: repo-relative path -> bytes. */
export interface FakeRepo {
  files: Record<string, Uint8Array>;
  commit?: string;
  private?: boolean;
  gated?: boolean;
}

export interface FakeHubOptions {
  repos: Record<string, FakeRepo>;
  /** The one token that opens private and gated repos. */
  token?: string;
  /** Repo paths whose first CDN GET is cut after half the body. */
  cutOnce?: Set<string>;
  /** Repo paths whose first CDN GET sends half the body, then goes silent (socket kept open). */
  stallOnce?: Set<string>;
  /** Repo paths whose CDN body has one byte flipped. */
  corrupt?: Set<string>;
  /** CDN answers 200 with the whole body even to a Range request. */
  ignoreRange?: boolean;
  /** Serve LFS blobs from the hub's own origin (a mirror), via a relative redirect. */
  cdnSameOrigin?: boolean;
  /** Old repo id -> new id: answered with a relative 307, like a renamed repo on the hub. */
  renamed?: Record<string, string>;
  /** The first N hub requests answer 503 (a hub hiccup). */
  failFirst?: number;
}

export interface LoggedRequest {
  server: "hub" | "cdn";
  method: string;
  url: string;
  authorization?: string;
  range?: string;
  status: number;
}

export interface FakeHub {
  endpoint: string;
  cdnOrigin: string;
  requests: LoggedRequest[];
  close(): Promise<void>;
}

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
export const gitOid = (bytes: Uint8Array) =>
  createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
const isLfs = (path: string) => /\.(safetensors|bin)$/.test(path);

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Serves bytes with Range support (206 for `bytes=N-`). */
function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  bytes: Uint8Array,
  headers: Record<string, string>,
  options: { ignoreRange?: boolean; cut?: boolean; stall?: boolean } = {},
): number {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
  let start = 0;
  let status = 200;
  if (range && !options.ignoreRange) {
    start = Number(range[1]);
    if (start >= bytes.byteLength) {
      res.writeHead(416, { "content-range": `bytes */${bytes.byteLength}` }).end();
      return 416;
    }
    status = 206;
    headers["content-range"] = `bytes ${start}-${bytes.byteLength - 1}/${bytes.byteLength}`;
  }
  const body = bytes.subarray(start);
  res.writeHead(status, { ...headers, "content-length": String(body.byteLength) });
  if (req.method === "HEAD") {
    res.end();
  } else if (options.stall) {
    res.write(body.subarray(0, body.byteLength >> 1));
  } else if (options.cut) {
    res.write(body.subarray(0, body.byteLength >> 1), () => {
      setTimeout(() => res.socket?.destroy(), 20);
    });
  } else {
    res.end(body);
  }
  return status;
}

/** A local imitation of the Hugging Face hub's resolve URLs plus a second-origin "CDN". */
export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: LoggedRequest[] = [];
  const blobs = new Map<string, { bytes: Uint8Array; path: string }>();
  const cutDone = new Set<string>();
  for (const repo of Object.values(options.repos)) {
    for (const [path, bytes] of Object.entries(repo.files)) {
      if (isLfs(path)) blobs.set(sha256Hex(bytes), { bytes, path });
    }
  }
  const log = (server: "hub" | "cdn", req: IncomingMessage, status: number) =>
    requests.push({
      server,
      method: req.method ?? "GET",
      url: req.url ?? "",
      authorization: req.headers.authorization,
      range: req.headers.range,
      status,
    });
  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { "x-error-code": code, "x-error-message": message }).end(message);
    return status;
  };

  const serveCdn = (req: IncomingMessage, res: ServerResponse) => {
    const sha = /^\/blobs\/([0-9a-f]{64})/.exec(req.url ?? "")?.[1];
    const blob = sha ? blobs.get(sha) : undefined;
    if (!blob) {
      log("cdn", req, 404);
      res.writeHead(404).end();
      return;
    }
    let bytes = blob.bytes;
    if (options.corrupt?.has(blob.path)) {
      bytes = bytes.slice();
      bytes[bytes.byteLength >> 1] ^= 0xff;
    }
    const first = req.method === "GET" && !cutDone.has(blob.path);
    const cut = first && options.cutOnce?.has(blob.path) === true;
    const stall = first && options.stallOnce?.has(blob.path) === true;
    if (cut || stall) cutDone.add(blob.path);
    const status = serveBytes(
      req,
      res,
      bytes,
      { "accept-ranges": "bytes" },
      {
        ignoreRange: options.ignoreRange,
        cut,
        stall,
      },
    );
    log("cdn", req, status);
  };
  const cdn = createServer(serveCdn);
  const cdnOrigin = await listen(cdn);

  const hub = createServer((req, res) => {
    if (options.cdnSameOrigin && req.url?.startsWith("/blobs/")) return serveCdn(req, res);
    if (
      options.failFirst &&
      requests.filter((r) => r.server === "hub").length < options.failFirst
    ) {
      res.writeHead(503).end();
      log("hub", req, 503);
      return;
    }
    const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? "");
    const status = (() => {
      if (!match) return fail(res, 404, "RepoNotFound", "unknown route");
      const [, repoId, rawRevision, rawPath] = match;
      const revision = decodeURIComponent(rawRevision);
      const path = rawPath.split("/").map(decodeURIComponent).join("/");
      const newId = options.renamed?.[repoId];
      if (newId) {
        res.writeHead(307, { location: `/${newId}/resolve/${rawRevision}/${rawPath}` }).end();
        return 307;
      }
      const repo = options.repos[repoId];
      const authorized = req.headers.authorization === `Bearer ${options.token}`;
      if (!repo || (repo.private && !authorized)) {
        return fail(res, authorized ? 404 : 401, "RepoNotFound", "Repository not found");
      }
      if (repo.gated && !authorized) {
        return fail(res, 401, "GatedRepo", "Access to this repo is restricted");
      }
      const commit = repo.commit ?? "c0ffee".padEnd(40, "0");
      if (revision !== "main" && revision !== commit) {
        return fail(res, 404, "RevisionNotFound", "Invalid rev id");
      }
      const bytes = repo.files[path];
      if (!bytes) return fail(res, 404, "EntryNotFound", "Entry not found");
      const common = { "x-repo-commit": commit };
      if (isLfs(path)) {
        const sha = sha256Hex(bytes);
        res
          .writeHead(302, {
            ...common,
            location: `${options.cdnSameOrigin ? "" : cdnOrigin}/blobs/${sha}?path=${encodeURIComponent(path)}`,
            "x-linked-etag": `"${sha}"`,
            "x-linked-size": String(bytes.byteLength),
            etag: `"${gitOid(new TextEncoder().encode(`version lfs ${sha}`))}"`,
            "content-length": "0",
          })
          .end();
        return 302;
      }
      return serveBytes(req, res, bytes, { ...common, etag: `"${gitOid(bytes)}"` });
    })();
    log("hub", req, status);
  });
  const endpoint = await listen(hub);

  return {
    endpoint,
    cdnOrigin,
    requests,
    async close() {
      await Promise.all([close(hub), close(cdn)]);
    },
  };
}

/** An endpoint on a port nothing listens on (connection refused). */
export async function closedEndpoint(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await close(server);
  return url;
}
