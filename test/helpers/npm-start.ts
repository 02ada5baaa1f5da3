/**
 * `npm start -- --model <fixture> --origin` on free ports, in its own process group, for the
 * suites that drive the running worker (the playground's browser tests).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturePath, repoRoot } from "./fixtures.ts";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningWorker {
  /** http://127.0.0.1:<port> */
  url: string;
  /** SIGINT to the group (npm, wrangler, workerd, origin), then SIGKILL; removes the state. */
  stop(): Promise<void>;
  /** What npm start, wrangler and workerd printed so far. */
  output(): string;
}

export async function startWorker(options: {
  /** A model folder of the fixtures (models/<name>). */
  model: string;
  origin: boolean;
  /** Prepared with this quantisation (default fp32). */
  quant?: "fp32" | "int8" | "q4";
  /** Worker vars (`npm start -- --var NAME:VALUE`). */
  vars?: Record<string, string>;
}): Promise<RunningWorker> {
  const state = mkdtempSync(join(tmpdir(), "clip-edge-worker-"));
  const port = await freePort();
  const args = [
    "start",
    "--",
    "--model",
    fixturePath("models", options.model),
    "--port",
    String(port),
  ];
  if (options.quant) args.push("--quant", options.quant);
  for (const [name, value] of Object.entries(options.vars ?? {})) {
    args.push("--var", `${name}:${value}`);
  }
  if (options.origin) args.push("--origin", "--origin-port", String(await freePort()));
  args.push("--persist-to", join(state, "wrangler"));
  const child = spawn("npm", args, {
    cwd: repoRoot,
    env: { ...process.env, CLIP_EDGE_CACHE: join(state, "cache"), WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (c) => {
    output += c;
  });
  child.stderr?.on("data", (c) => {
    output += c;
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, name);
    } catch {}
  };
  const stop = async () => {
    signal("SIGINT");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    if (child.exitCode === null) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    signal("SIGKILL");
    rmSync(state, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`npm start exited ${child.exitCode}:\n${output.slice(-3000)}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, stop, output: () => output };
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`${url}/readyz never answered 200:\n${output.slice(-3000)}`);
}
