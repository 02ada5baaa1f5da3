/**
 * A small Node HTTP server for the end-to-end tests: `GET /images/<file>` serves a fixture
 * image (what `url` images point at), `POST /origin/stop` and `POST /origin/start` stop and
 * restart the origin, `GET /origin` says whether it runs, and anything under `/hang/` is
 * never answered (an origin that accepts connections but hangs). Answers are JSON except images.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";

export interface ControlServerOptions {
  /** Folder served under /images/. */
  images: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  running(): boolean;
}

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
};

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { pathname } = new URL(req.url ?? "/", "http://control");
    if (pathname.startsWith("/hang/")) return; // closed by close()
    if (req.method === "GET" && pathname.startsWith("/images/")) {
      const name = basename(decodeURIComponent(pathname.slice("/images/".length)));
      const type = IMAGE_TYPES[name.split(".").pop()?.toLowerCase() ?? ""];
      if (!type) return json(res, 404, { error: { code: "not_found", message: name } });
      const bytes = await readFile(join(options.images, name));
      res.writeHead(200, { "content-type": type, "content-length": bytes.length });
      return res.end(bytes);
    }
    if (req.method === "GET" && pathname === "/origin") {
      return json(res, 200, { running: options.running() });
    }
    if (req.method === "POST" && (pathname === "/origin/stop" || pathname === "/origin/start")) {
      const started = Date.now();
      await (pathname === "/origin/stop" ? options.stop() : options.start());
      return json(res, 200, { running: options.running(), ms: Date.now() - started });
    }
    json(res, 404, { error: { code: "not_found", message: `${req.method} ${pathname}` } });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      json(res, 500, { error: { code: "internal", message: String(error) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
