/**
 * Node side of the end-to-end tests (`test/worker/e2e/` workerd tests): a real origin (CPU,
 * onnxruntime-node, the tiny-openai HF folder prepared with its vision tower into a temp
 * cache) on an ephemeral port, and a control server that serves the fixture images (the
 * worker fetches `url` images from it) and stops / restarts the origin on the same port.
 * Workerd reaches both over plain `fetch` to 127.0.0.1.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { parseOriginArgs } from "../../../origin/cli-options.ts";
import { type StartedOrigin, startOrigin } from "../../../origin/start-origin.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { startControlServer } from "./control-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    e2eOriginUrl: string;
    e2eOriginSecret: string;
    e2eControlUrl: string;
  }
}

export const E2E_ORIGIN_SECRET = "e2e-origin-secret-0123456789";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cache = mkdtempSync(join(tmpdir(), "clip-edge-e2e-origin-"));
  const logs: string[] = [];
  const start = (port: number): Promise<StartedOrigin> =>
    startOrigin(
      parseOriginArgs(
        [
          ...["--model", fixturePath("models", "tiny-openai"), "--cache-dir", cache],
          ...["--host", "127.0.0.1", "--port", String(port), "--provider", "cpu"],
          ...["--preprocess-threads", "0", "--threads", "1"],
        ],
        { ORIGIN_SECRET: E2E_ORIGIN_SECRET },
      ),
      (line) => logs.push(line),
    );
  let origin: StartedOrigin | undefined = await start(0);
  const port = origin.port;
  const control = await startControlServer({
    images: fixturePath("images"),
    async stop() {
      const running = origin;
      origin = undefined;
      await running?.close();
    },
    async start() {
      origin ??= await start(port);
    },
    running: () => origin !== undefined,
  });
  project.provide("e2eOriginUrl", origin.url);
  project.provide("e2eOriginSecret", E2E_ORIGIN_SECRET);
  project.provide("e2eControlUrl", control.url);
  return async () => {
    await control.close();
    await origin?.close();
    rmSync(cache, { recursive: true, force: true });
  };
}
