import { type ParseArgsConfig, parseArgs } from "node:util";
import { ClipEdgeError } from "../conditioning/errors.ts";

/** Streams a command talks to; passed in so tests can drive commands in-process. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface Command {
  name: string;
  summary: string;
  /** Full help text printed by `clip-edge <name> --help`. */
  usage: string;
  /** Returns the process exit code. Throw ClipEdgeError("usage", ...) for bad arguments. */
  run(argv: string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with errors turned into one-line usage errors (exit code 2). */
export function parseCommandArgs<T extends Options>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new ClipEdgeError("usage", `${command}: ${(error as Error).message}`, { cause: error });
  }
}

export function requireOption(command: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ClipEdgeError("usage", `${command}: missing required option --${name}`);
  }
  return value;
}

/** Reads JSON Lines from a stream, yielding each parsed object with its 1-based line number. */
export async function* readJsonLines(
  input: NodeJS.ReadableStream,
): AsyncGenerator<{ line: number; value: unknown }> {
  let buffer = "";
  let line = 0;
  const decoder = new TextDecoder();
  for await (const chunk of input) {
    buffer +=
      typeof chunk === "string" ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      line += 1;
      if (text.trim().length > 0) yield { line, value: parseJsonLine(text, line) };
      newline = buffer.indexOf("\n");
    }
  }
  buffer += decoder.decode();
  if (buffer.trim().length > 0) yield { line: line + 1, value: parseJsonLine(buffer, line + 1) };
}

function parseJsonLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ClipEdgeError("malformed", `stdin line ${line}: not valid JSON`, { cause: error });
  }
}

/** Extracts the "text" string field of a JSON Lines record, or throws naming the line. */
export function textField(value: unknown, line: number): string {
  if (
    value &&
    typeof value === "object" &&
    typeof (value as { text?: unknown }).text === "string"
  ) {
    return (value as { text: string }).text;
  }
  throw new ClipEdgeError(
    "invalid_input",
    `stdin line ${line}: expected an object {"text": string}`,
  );
}
