import { runJsonChild } from "../../node/runtime/json-child.ts";

/**
 * Runs a bench child script in a fresh Node process (with --expose-gc and the
 * tsx loader) and returns the JSON records it printed, one per line.
 */
export function runChild<T>(
  script: string,
  args: unknown,
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<T[]> {
  return runJsonChild<T>(script, args, {
    ...options,
    nodeArgs: ["--expose-gc"],
    env: { ...process.env, ORT_LOGGING_LEVEL: "3" },
  });
}
