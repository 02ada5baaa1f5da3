import { execFileSync } from "node:child_process";

let found: string | undefined;

/**
 * The Python 3 with numpy that the interop tests use as an independent reader of our
 * safetensors / .npy output: `python3` from PATH, else the system's /usr/bin/python3
 * (where Debian's python3-numpy installs); CLIP_EDGE_PYTHON overrides both.
 * Throws a message saying what to install when it is missing (never skips).
 */
export function pythonWithNumpy(): string {
  if (found) return found;
  const candidates = process.env.CLIP_EDGE_PYTHON
    ? [process.env.CLIP_EDGE_PYTHON]
    : ["python3", "/usr/bin/python3"];
  const errors: string[] = [];
  for (const python of candidates) {
    try {
      execFileSync(python, ["-c", "import numpy"], { stdio: "pipe" });
      found = python;
      return python;
    } catch (cause) {
      errors.push(`${python}: ${(cause as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(
    `the interop tests need python3 with numpy (Debian: apt-get install python3-numpy; or set CLIP_EDGE_PYTHON); tried ${errors.join("; ")}`,
  );
}
