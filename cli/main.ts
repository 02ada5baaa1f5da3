import { isClipEdgeError } from "../conditioning/errors.ts";
import type { CliIo, Command } from "./command.ts";
import { commands } from "./commands/index.ts";

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(
    ([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`,
  );
  return `Usage: clip-edge <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun 'clip-edge <command> --help' for a command's options.\n`;
}

/** Runs the CLI and returns the exit code (0 ok, 1 runtime failure, 2 usage error). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    io.stderr.write(`clip-edge: unknown command '${name}' (run 'clip-edge --help')\n`);
    return 2;
  }
  let command: Command;
  try {
    command = (await entry.load()).command;
  } catch (error) {
    io.stderr.write(`clip-edge ${name}: failed to load: ${(error as Error).message}\n`);
    return 1;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (isClipEdgeError(error)) {
      const line = error.message.split("\n")[0];
      const message = line.startsWith(`${name}: `) ? line.slice(name.length + 2) : line;
      io.stderr.write(`clip-edge ${name}: ${message}\n`);
      return error.code === "usage" ? 2 : 1;
    }
    io.stderr.write(`clip-edge ${name}: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}
