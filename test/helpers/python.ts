import { execFileSync } from "node:child_process";

let found: string | undefined;

/**
 * The Python 3 with numpy that the interop tests use as an independent reader of our
 * safetensors / .npy output: `python3` from PATH (override with CLIP_EDGE_PYTHON).
 * Throws a message saying what to install when it is missing (never skips).
 */
export function pythonWithNumpy(): string {
  if (found) return found;
  const python = process.env.CLIP_EDGE_PYTHON || "python3";
  try {
    execFileSync(python, ["-c", "import numpy"], { stdio: "pipe" });
  } catch (cause) {
    throw new Error(
      `the interop tests need ${python} with numpy on PATH (Debian: apt-get install python3-numpy; or set CLIP_EDGE_PYTHON): ${(cause as Error).message.split("\n")[0]}`,
      { cause },
    );
  }
  found = python;
  return python;
}
