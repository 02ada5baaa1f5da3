import { codePointAt, isPyWhitespace } from "./py-text.ts";

/** One scheduled text: used while `step <= endAtStep` (after the previous entry's end). */
export interface ScheduledText {
  endAtStep: number;
  text: string;
}

/** Nodes of A1111's lark schedule grammar that change the text per step. */
type Piece =
  | string
  | { kind: "scheduled"; before: Piece[] | null; after: Piece[]; number: string; when: number }
  | { kind: "alternate"; options: Piece[][] };

/** Deepest bracket nesting handled by the (recursive-descent) schedule parser. */
export const SCHEDULE_MAX_DEPTH = 500;

const NUMBER_RE = /[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;

type Item = { end: number; pieces: Piece[] } | null;

class ScheduleGrammar {
  private readonly memo = new Map<number, Item>();
  constructor(private readonly s: string) {}

  /** A bracketed construct at p (memoised: the top level retries positions after failures). */
  private bracket(p: number): Item {
    if (!this.memo.has(p)) this.memo.set(p, this.s[p] === "(" ? this.round(p) : this.square(p));
    return this.memo.get(p)!;
  }

  /** `prompt: (emphasized | scheduled | alternate | plain | WHITESPACE)*` */
  prompt(p: number): { end: number; pieces: Piece[] } {
    const pieces: Piece[] = [];
    const s = this.s;
    for (;;) {
      const c = s[p];
      if (c === undefined) break;
      if (c === "(" || c === "[") {
        const item = this.bracket(p);
        if (!item) break;
        pieces.push(...item.pieces);
        p = item.end;
        continue;
      }
      let q = p;
      while (q < s.length) {
        const d = s[q];
        if (d === "\\") {
          if (q + 1 >= s.length || s[q + 1] === "\n") break;
          q += 2;
        } else if ("[]():|".includes(d)) break;
        else q += 1;
      }
      if (q === p) break;
      pieces.push(s.slice(p, q));
      p = q;
    }
    return { end: p, pieces };
  }

  /** `"(" prompt ")" | "(" prompt ":" prompt ")"`, kept verbatim. */
  private round(p: number): { end: number; pieces: Piece[] } | null {
    const first = this.prompt(p + 1);
    if (this.s[first.end] === ")")
      return { end: first.end + 1, pieces: ["(", ...first.pieces, ")"] };
    if (this.s[first.end] !== ":") return null;
    const second = this.prompt(first.end + 1);
    if (this.s[second.end] !== ")") return null;
    return { end: second.end + 1, pieces: ["(", ...first.pieces, ":", ...second.pieces, ")"] };
  }

  /** `scheduled | alternate | "[" prompt "]"`. */
  private square(p: number): { end: number; pieces: Piece[] } | null {
    const first = this.prompt(p + 1);
    const c = this.s[first.end];
    if (c === "]") return { end: first.end + 1, pieces: ["[", ...first.pieces, "]"] };
    if (c === "|") {
      const options: Piece[][] = [first.pieces];
      let pos = first.end;
      while (this.s[pos] === "|") {
        const next = this.prompt(pos + 1);
        options.push(next.pieces);
        pos = next.end;
      }
      if (this.s[pos] !== "]") return null;
      return { end: pos + 1, pieces: [{ kind: "alternate", options }] };
    }
    if (c !== ":") return null;
    // "[" [prompt ":"] prompt ":" [WS] NUMBER [WS] "]"
    const number = this.number(first.end + 1);
    if (number) {
      return {
        end: number.end,
        pieces: [
          { kind: "scheduled", before: null, after: first.pieces, number: number.text, when: 0 },
        ],
      };
    }
    const second = this.prompt(first.end + 1);
    if (this.s[second.end] !== ":") return null;
    const last = this.number(second.end + 1);
    if (!last) return null;
    return {
      end: last.end,
      pieces: [
        {
          kind: "scheduled",
          before: first.pieces,
          after: second.pieces,
          number: last.text,
          when: 0,
        },
      ],
    };
  }

  /** `[WHITESPACE] NUMBER [WHITESPACE] "]"` starting after a ":". */
  private number(p: number): { end: number; text: string } | null {
    const s = this.s;
    const skip = (q: number) => {
      while (q < s.length && isPyWhitespace(codePointAt(s, q)!)) q += codePointAt(s, q)!.length;
      return q;
    };
    const start = skip(p);
    NUMBER_RE.lastIndex = start;
    const m = NUMBER_RE.exec(s);
    if (!m) return null;
    const close = skip(start + m[0].length);
    return s[close] === "]" ? { end: close + 1, text: m[0] } : null;
  }
}

/** Top level: `(prompt | /[][():]/+)*`; null where lark fails to parse. */
function parseTop(text: string): Piece[] | null {
  const grammar = new ScheduleGrammar(text);
  const pieces: Piece[] = [];
  let p = 0;
  while (p < text.length) {
    const prompt = grammar.prompt(p);
    pieces.push(...prompt.pieces);
    p = prompt.end;
    if (p >= text.length) break;
    if (!"[]():".includes(text[p])) return null;
    pieces.push(text[p]);
    p += 1;
  }
  return pieces;
}

function maxDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (const c of text) {
    if (c === "(" || c === "[") max = Math.max(max, ++depth);
    else if ((c === ")" || c === "]") && depth > 0) depth -= 1;
  }
  return max;
}

function render(pieces: Piece[], step: number): string {
  let out = "";
  for (const piece of pieces) {
    if (typeof piece === "string") out += piece;
    else if (piece.kind === "alternate") {
      out += render(piece.options[(step - 1) % piece.options.length], step);
    } else if (step <= piece.when) out += piece.before ? render(piece.before, step) : "";
    else out += render(piece.after, step);
  }
  return out;
}

/**
 * A1111 `get_learned_conditioning_prompt_schedules([text], steps)` (no hires steps, new
 * scheduling): `[a:b:N]` uses `a` while step <= N (N with a `.` is a fraction of `steps`),
 * `[a|b]` alternates every step. Unparseable text is returned unchanged as `[[steps, text]]`.
 */
export function parseA1111Schedule(
  text: string,
  steps: number,
): ScheduledText[] | { error: string } {
  if (!text.includes("[")) return [{ endAtStep: steps, text }];
  if (maxDepth(text) > SCHEDULE_MAX_DEPTH) {
    if (!text.includes(":") && !text.includes("|")) return [{ endAtStep: steps, text }];
    return { error: `RecursionError: brackets nested deeper than ${SCHEDULE_MAX_DEPTH}` };
  }
  let pieces: Piece[] | null;
  try {
    pieces = parseTop(text);
  } catch (error) {
    // safety net behind SCHEDULE_MAX_DEPTH: a small stack gives an error, never a crash
    if (error instanceof RangeError) return { error: `RecursionError: ${error.message}` };
    throw error;
  }
  if (pieces === null) return [{ endAtStep: steps, text }];
  const boundaries = new Set<number>([steps]);
  const visit = (list: Piece[]): string | null => {
    for (const piece of list) {
      if (typeof piece === "string") continue;
      if (piece.kind === "alternate") {
        for (let i = 1; i <= steps; i += 1) boundaries.add(i);
        for (const option of piece.options) {
          const error = visit(option);
          if (error) return error;
        }
        continue;
      }
      let v = Number(piece.number);
      if (piece.number.includes(".")) v *= steps;
      if (!Number.isFinite(v)) return "OverflowError: cannot convert float infinity to integer";
      piece.when = Math.min(steps, Math.trunc(v));
      if (piece.when >= 1) boundaries.add(piece.when);
      const error = (piece.before && visit(piece.before)) || visit(piece.after);
      if (error) return error;
    }
    return null;
  };
  const error = visit(pieces);
  if (error) return { error };
  return [...boundaries]
    .sort((a, b) => a - b)
    .map((step) => ({ endAtStep: step, text: render(pieces, step) }));
}
