import { pyFloat } from "./py-text.ts";

/** `[segment, weight]` pairs: ComfyUI's `token_weights` output, unescaped. */
export type SegmentList = [string, number][];

/** ComfyUI `escape_important`: `\)` -> "\0\1", `\(` -> "\0\2". */
export function comfyEscape(text: string): string {
  return text.replaceAll("\\)", "\u0000\u0001").replaceAll("\\(", "\u0000\u0002");
}

/** ComfyUI `unescape_important`. */
export function comfyUnescape(text: string): string {
  return text.replaceAll("\u0000\u0001", ")").replaceAll("\u0000\u0002", "(");
}

type Range = [number, number];

/** Python `parse_parentheses` on the whole (escaped) string, literally: levels may go negative. */
function topLevelItems(s: string): Range[] {
  const items: Range[] = [];
  let itemStart = 0;
  let level = 0;
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i];
    if (c === "(") {
      if (level === 0) {
        if (i > itemStart) items.push([itemStart, i]);
        itemStart = i;
      }
      level += 1;
    } else if (c === ")") {
      level -= 1;
      if (level === 0) {
        items.push([itemStart, i + 1]);
        itemStart = i + 1;
      }
    }
  }
  if (s.length > itemStart) items.push([itemStart, s.length]);
  return items;
}

/**
 * `parse_parentheses` on a sub-range whose nesting never goes below its start (true of every
 * range below the top level), using precomputed bracket matches: O(range's own level-0 text).
 */
function nestedItems(s: string, match: Int32Array, start: number, end: number): Range[] {
  const items: Range[] = [];
  let itemStart = start;
  for (let i = start; i < end; i += 1) {
    if (s[i] !== "(") continue;
    if (i > itemStart) items.push([itemStart, i]);
    const j = match[i];
    if (j >= 0 && j < end) {
      items.push([i, j + 1]);
      itemStart = j + 1;
      i = j;
    } else {
      items.push([i, end]);
      return items;
    }
  }
  if (end > itemStart) items.push([itemStart, end]);
  return items;
}

interface Task {
  start: number;
  end: number;
  weight: number;
  /** true: emit as a segment; false: run token_weights on the range. */
  emit: boolean;
  top: boolean;
}

/**
 * ComfyUI `token_weights(escape_important(text), 1.0)` then `unescape_important` per segment
 * (what `SDTokenizer.tokenize_with_weights` feeds the tokenizer). `(x)` x1.1, `(x:w)` replaces the
 * weight with Python `float(w)` (non-finite allowed). Iterative and linear in the text length.
 */
export function parseComfyWeights(text: string): SegmentList {
  const s = comfyEscape(text);
  const n = s.length;
  const match = new Int32Array(n).fill(-1);
  const prevColon = new Int32Array(n + 1).fill(-1);
  const nextParen = new Int32Array(n + 1).fill(n);
  const stack: number[] = [];
  for (let i = 0; i < n; i += 1) {
    prevColon[i + 1] = s[i] === ":" ? i : prevColon[i];
    if (s[i] === "(") stack.push(i);
    else if (s[i] === ")" && stack.length > 0) match[stack.pop()!] = i;
  }
  for (let i = n - 1; i >= 0; i -= 1) {
    nextParen[i] = s[i] === "(" || s[i] === ")" ? i : nextParen[i + 1];
  }
  const out: SegmentList = [];
  const tasks: Task[] = [{ start: 0, end: n, weight: 1.0, emit: false, top: true }];
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    if (task.emit) {
      out.push([comfyUnescape(s.slice(task.start, task.end)), task.weight]);
      continue;
    }
    const items = task.top ? topLevelItems(s) : nestedItems(s, match, task.start, task.end);
    const next: Task[] = [];
    for (const [a, b] of items) {
      if (b - a >= 2 && s[a] === "(" && s[b - 1] === ")") {
        let weight = task.weight * 1.1;
        let innerEnd = b - 1;
        const colon = prevColon[b - 1];
        if (colon > a + 1 && nextParen[colon + 1] >= b - 1) {
          const value = pyFloat(s.slice(colon + 1, b - 1));
          if (value !== undefined) {
            weight = value;
            innerEnd = colon;
          }
        }
        next.push({ start: a + 1, end: innerEnd, weight, emit: false, top: false });
      } else {
        next.push({ start: a, end: b, weight: task.weight, emit: true, top: false });
      }
    }
    for (let i = next.length - 1; i >= 0; i -= 1) tasks.push(next[i]);
  }
  return out;
}
