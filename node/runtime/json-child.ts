/**
 * Runs a TypeScript script in a fresh Node process (the tsx loader resolved from this
 * package, so it works from any working folder) with one JSON argument, and returns
 * the JSON objects it printed, one per line. A fresh process is how onnxruntime-web's
 * WASM heap, which never shrinks, is measured per model (prepare's memory profile, the
 * bench's children).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface JsonChildOptions {
  /** Node flags before the loader (e.g. `--expose-gc`). */
  nodeArgs?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Killed (SIGKILL) after this long. */
  timeoutMs?: number;
}

export async function runJsonChild<T>(
  script: string,
  args: unknown,
  options: JsonChildOptions = {},
): Promise<T[]> {
  const path = script.startsWith("file:") ? fileURLToPath(script) : script;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", tsx, path, JSON.stringify(args)],
    {
      cwd: options.cwd ?? process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
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
    throw new ClipEdgeError("internal", `${path} exited with ${code}: ${tail}`);
  }
  return out
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as T);
}
