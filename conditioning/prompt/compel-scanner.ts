/**
 * The terminals of compel's pyparsing grammar (`compel-grammar.ts`): whitespace skipping
 * as pyparsing does it, literals, regexes, numbers and keywords, and the (rule, position)
 * memo that makes the grammar a linear-time PEG.
 */
import { codePointAt, isPyWhitespace, pyFloat, pyRepr } from "./py-text.ts";

export const PP_WS = " \n\t\r"; // pyparsing's default whitespace and White()'s characters
export const STRING_WS = " \t\n\r\v\f"; // Python string.whitespace
export const SYNTACTIC = '()",.+-=';
const REAL_RE = /[+-]?(?:\p{Nd}+\.\p{Nd}*|\.\p{Nd}+)/uy;
const INT_RE = /-?[0-9]+/y;
const KEYWORD_RE = /[A-Za-z0-9_-]+/y;

export interface Match<T> {
  end: number;
  value: T;
}
export type Result<T> = Match<T> | null;

export function isPyStripEmpty(text: string): boolean {
  for (const ch of text) if (!isPyWhitespace(ch)) return false;
  return true;
}

export class CompelScanner {
  private readonly memo = new Map<string, Result<unknown>>();
  constructor(protected readonly s: string) {}

  protected cached<T>(rule: string, pos: number, fn: () => Result<T>): Result<T> {
    const key = `${rule}@${pos}`;
    if (this.memo.has(key)) return this.memo.get(key) as Result<T>;
    const result = fn();
    this.memo.set(key, result);
    return result;
  }

  skip(p: number): number {
    while (p < this.s.length && PP_WS.includes(this.s[p])) p += 1;
    return p;
  }

  protected lit(p: number, text: string): number {
    if (p < 0) return -1;
    const q = this.skip(p);
    return this.s.startsWith(text, q) ? q + text.length : -1;
  }

  protected regex(p: number, re: RegExp, skip = true): Match<string> | null {
    const q = skip ? this.skip(p) : p;
    re.lastIndex = q;
    const m = re.exec(this.s);
    return m ? { end: q + m[0].length, value: m[0] } : null;
  }

  protected isWhiteAt(p: number): boolean {
    return p < this.s.length && PP_WS.includes(this.s[p]);
  }

  protected number(p: number): Result<number> {
    const real = this.regex(p, REAL_RE);
    if (real) return { end: real.end, value: pyFloat(real.value)! };
    const int = this.regex(p, INT_RE);
    return int ? { end: int.end, value: Number(int.value) } : null;
  }

  protected keyword(p: number): Result<string> {
    return this.regex(p, KEYWORD_RE);
  }

  /** pyparsing's "Expected end of text, found ... (at char N), (line:L, col:C)" at `end`. */
  protected endOfTextMessage(end: number): string {
    // Python positions count code points, not UTF-16 units
    const points = [...this.s];
    const at = [...this.s.slice(0, end)].length;
    return `Expected end of text, found ${pyRepr(foundWord(this.s, end))}  (at char ${at}), (line:${lineOf(points, at)}, col:${columnOf(points, at)})`;
  }
}

/** pyparsing's error-message word: up to 16 Latin-1 alphanumerics, else one character. */
function foundWord(text: string, at: number): string {
  const m =
    /[A-Za-z0-9\u00aa\u00b2\u00b3\u00b5\u00b9\u00ba\u00bc-\u00be\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]{1,16}/y;
  m.lastIndex = at;
  return m.exec(text)?.[0] ?? codePointAt(text, at) ?? "";
}

/** pyparsing `lineno(loc, s)` and `col(loc, s)`. */
function lineOf(text: string[], at: number): number {
  let line = 1;
  for (let i = 0; i < at; i += 1) if (text[i] === "\n") line += 1;
  return line;
}
function columnOf(text: string[], at: number): number {
  if (at > 0 && at < text.length && text[at - 1] === "\n") return 1;
  return at - (at > 0 ? text.lastIndexOf("\n", at - 1) : -1);
}
