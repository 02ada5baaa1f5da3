/**
 * `npm start -- --origin`: the image origin (`npm run origin`) as a child process beside
 * wrangler dev, on the loopback, with a secret generated for this run. Resolves once its
 * /healthz answers; fails with the origin's own last words when it exits first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface OriginProcessOptions {
  /** `--model` for the origin: a Hugging Face CLIP folder (with its vision tower) or a bundle. */
  model: string;
  port: number;
  repoRoot: string;
  cacheDir: string;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  /** How long the origin may take to load and prepare its model (default 10 minutes). */
  readyTimeoutMs?: number;
  fetch?: typeof fetch;
}

export interface OriginProcess {
  url: string;
  secret: string;
  child: ChildProcess;
  stop(): void;
}

export async function startOriginProcess(options: OriginProcessOptions): Promise<OriginProcess> {
  const secret = randomBytes(24).toString("base64url");
  const url = `http://127.0.0.1:${options.port}`;
  const args = ["tsx", "origin/main.ts", "--model", options.model, "--host", "127.0.0.1"];
  args.push("--port", String(options.port), "--cache-dir", options.cacheDir);
  options.log(`starting the image origin on ${url} (model ${options.model}) ...`);
  const child = spawn("npx", args, {
    cwd: options.repoRoot,
    env: { ...options.env, ORIGIN_SECRET: secret },
    stdio: ["ignore", "inherit", "pipe"],
    // Its own process group: stop() ends npx, tsx and the origin together.
    detached: true,
  });
  let tail = "";
  child.stderr?.on("data", (chunk) => {
    process.stderr.write(chunk);
    tail = (tail + String(chunk)).slice(-2000);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) =>
      reject(
        new ClipEdgeError(
          "unavailable",
          `the image origin (--origin) exited with code ${code} before it was ready: ${tail.trim().split("\n").slice(-3).join(" | ")}`,
        ),
      ),
    ),
  );
  const stop = () => killGroup(child, "SIGTERM");
  try {
    await Promise.race([waitHealthy(url, options), exited]);
  } catch (error) {
    stop();
    throw error;
  }
  exited.catch(() => {}); // a later exit is reported by the caller's child handlers
  options.log(`image origin ready on ${url}`);
  return { url, secret, child, stop };
}

async function waitHealthy(url: string, options: OriginProcessOptions): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  const deadline = AbortSignal.timeout(options.readyTimeoutMs ?? 600_000);
  while (!deadline.aborted) {
    const ok = await doFetch(`${url}/healthz`, {
      signal: AbortSignal.any([deadline, AbortSignal.timeout(2000)]),
    })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new ClipEdgeError("unavailable", `the image origin did not answer ${url}/healthz in time`);
}

/** Signals a child spawned with `detached: true` and everything it started (npx -> tsx -> node). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
