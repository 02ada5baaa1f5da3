/**
 * JSONL input files: cutting one into chunks of N request lines (byte ranges, found while
 * streaming, so the file is never held in memory), and reading a chunk's lines back.
 * Blank lines are skipped and not counted; line numbers are the file's (1-based).
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface ChunkRange {
  offset: number;
  length: number;
  /** The file's line number where the range starts. */
  firstLine: number;
  /** Request (non-blank) lines in the range. */
  lines: number;
}

export interface ChunkPlan {
  chunks: ChunkRange[];
  lines: number;
}

const NEWLINE = 10;
const isBlankByte = (b: number) => b === 32 || b === 9 || b === 13;

export async function planChunks(
  stream: ReadableStream<Uint8Array>,
  options: { chunkLines: number; maxLines: number; maxLinesVar: string },
): Promise<ChunkPlan> {
  const chunks: ChunkRange[] = [];
  let position = 0;
  let line = 1;
  let lines = 0;
  let start = { offset: 0, firstLine: 1, lines: 0 };
  let content = false;
  const endLine = (end: number) => {
    if (content) {
      lines++;
      start.lines++;
      if (lines > options.maxLines) {
        throw new ClipEdgeError(
          "too_large",
          `the input file has more than ${options.maxLines} request lines (${options.maxLinesVar})`,
          { details: { limit: options.maxLines, limitVar: options.maxLinesVar } },
        );
      }
    }
    content = false;
    line++;
    if (start.lines === options.chunkLines) {
      chunks.push({ ...start, length: end - start.offset });
      start = { offset: end, firstLine: line, lines: 0 };
    }
  };
  for await (const bytes of stream as unknown as AsyncIterable<Uint8Array>) {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === NEWLINE) endLine(position + i + 1);
      else if (!content && !isBlankByte(b)) content = true;
    }
    position += bytes.length;
  }
  if (content) endLine(position);
  if (start.lines > 0) chunks.push({ ...start, length: position - start.offset });
  return { chunks, lines };
}

/** The request lines of a chunk's text, with their line numbers. */
export function chunkLines(text: string, firstLine: number): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const parts = text.split("\n");
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].trim()) out.push({ line: firstLine + i, text: parts[i] });
  }
  return out;
}

/** Objects as JSONL: one line each, each ending in "\n" ("" for none). */
export function toJsonl(values: readonly unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join("");
}
