import { PassThrough } from "node:stream";
import type { CliIo } from "../../cli/command.ts";
import { main } from "../../cli/main.ts";

/** In-memory streams for driving CLI commands in-process; stdin holds `stdinText`. */
export function createCliIo(stdinText = ""): { io: CliIo; out: () => string; err: () => string } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => {
    out += chunk;
  });
  stderr.on("data", (chunk) => {
    err += chunk;
  });
  stdin.end(stdinText);
  return { io: { stdin, stdout, stderr }, out: () => out, err: () => err };
}

/** Runs `clip-edge <argv>` in-process and returns its exit code and output. */
export async function runCli(
  argv: string[],
  stdinText = "",
): Promise<{ code: number; out: string; err: string }> {
  const t = createCliIo(stdinText);
  const code = await main(argv, t.io);
  return { code, out: t.out(), err: t.err() };
}
