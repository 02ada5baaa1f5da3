/** Serves an OriginApp on @hono/node-server; port 0 picks a free port (tests). */
import { type ServerType, serve } from "@hono/node-server";
import type { OriginApp } from "./app.ts";

export interface RunningOrigin {
  port: number;
  url: string;
  /** Stops accepting work, rejects queued images with 503 and closes the listener. */
  close(): Promise<void>;
}

export function serveOrigin(
  origin: OriginApp,
  options: { port: number; hostname?: string },
): Promise<RunningOrigin> {
  const hostname = options.hostname ?? "127.0.0.1";
  return new Promise((resolvePromise, reject) => {
    let server: ServerType | undefined;
    try {
      server = serve({ fetch: origin.fetch, port: options.port, hostname }, (info) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        resolvePromise({
          port: info.port,
          url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              origin.close();
              if (!server) return done();
              const s = server as ServerType & { closeAllConnections?: () => void };
              s.close(() => done());
              s.closeAllConnections?.();
            }),
        });
      });
      server.on("error", reject);
    } catch (error) {
      reject(error);
    }
  });
}
