import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Runs a bench child script in a fresh Node process (with --expose-gc and the
 * tsx loader) and returns the JSON records it printed, one per line.
 */
export async function runChild<T>(
  script: string,
  args: unknown,
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<T[]> {
  const path = script.startsWith("file:") ? fileURLToPath(script) : script;
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", path, JSON.stringify(args)],
    {
      cwd: options.cwd ?? process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ORT_LOGGING_LEVEL: "3" },
    },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const timer = options.timeoutMs
    ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs)
    : undefined;
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (timer) clearTimeout(timer);
  if (code !== 0) {
    const tail = err.split("\n").filter(Boolean).slice(-6).join("\n");
    throw new Error(`${path} exited with ${code}: ${tail}`);
  }
  return out
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as T);
}
