import {
  type CompelBlend,
  type CompelConjunction,
  type CompelNode,
  CompelParseError,
  makeFragment,
  pyFloatRepr,
} from "./compel-nodes.ts";
import {
  dictOf,
  makeBlend,
  makeConjunction,
  makeSwap,
  type OptionGroup,
  unquote,
} from "./compel-operators.ts";
import { exactPowInt } from "./exact-pow.ts";
import { codePointAt, isPyWhitespace, pyExpandTabs, pyFloat, pyRepr } from "./py-text.ts";

/**
 * compel's pyparsing grammar (`build_parser_syntax`) as a memoised PEG: every rule is an ordered
 * choice with backtracking exactly like pyparsing's MatchFirst, but each (rule, position) is
 * evaluated once, so parsing is linear where compel's is exponential in `(` depth. Parse actions
 * are pure functions of the matched text, so memoising them does not change the result.
 */

const PP_WS = " \n\t\r"; // pyparsing's default whitespace and White()'s characters
const STRING_WS = " \t\n\r\v\f"; // Python string.whitespace
const SYNTACTIC = '()",.+-=';
const QUOTED_RE = /"(?:\\"|[^"\n\r])*"/y;
const REAL_RE = /[+-]?(?:\p{Nd}+\.\p{Nd}*|\.\p{Nd}+)/uy;
const INT_RE = /-?[0-9]+/y;
const KEYWORD_RE = /[A-Za-z0-9_-]+/y;

interface Match<T> {
  end: number;
  value: T;
}
type Result<T> = Match<T> | null;
type WeightOp = string | number;

const PLUS_BASE = 1.1;
const MINUS_BASE = 0.9;

function isPyStripEmpty(text: string): boolean {
  for (const ch of text) if (!isPyWhitespace(ch)) return false;
  return true;
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

export class CompelGrammar {
  private readonly memo = new Map<string, Result<unknown>>();
  constructor(private readonly s: string) {}

  private cached<T>(rule: string, pos: number, fn: () => Result<T>): Result<T> {
    const key = `${rule}@${pos}`;
    if (this.memo.has(key)) return this.memo.get(key) as Result<T>;
    const result = fn();
    this.memo.set(key, result);
    return result;
  }

  private skip(p: number): number {
    while (p < this.s.length && PP_WS.includes(this.s[p])) p += 1;
    return p;
  }

  private lit(p: number, text: string): number {
    if (p < 0) return -1;
    const q = this.skip(p);
    return this.s.startsWith(text, q) ? q + text.length : -1;
  }

  private regex(p: number, re: RegExp, skip = true): Match<string> | null {
    const q = skip ? this.skip(p) : p;
    re.lastIndex = q;
    const m = re.exec(this.s);
    return m ? { end: q + m[0].length, value: m[0] } : null;
  }

  private isWhiteAt(p: number): boolean {
    return p < this.s.length && PP_WS.includes(this.s[p]);
  }

  /** Combine(OneOrMore(escaped symbol | [+-] not before ws/syntax/end | digits | one plain char)). */
  nonSyntaxWord(p: number): Result<CompelNode[]> {
    return this.cached("nsw", p, () => {
      const s = this.s;
      const q = this.skip(p);
      let r = q;
      while (r < s.length) {
        const c = s[r];
        if (c === "\\" && r + 1 < s.length && SYNTACTIC.includes(s[r + 1])) r += 2;
        else if (
          (c === "-" || c === "+") &&
          r + 1 < s.length &&
          !PP_WS.includes(s[r + 1]) &&
          !SYNTACTIC.includes(s[r + 1])
        )
          r += 1;
        else if (c >= "0" && c <= "9") r += 1;
        else if (!STRING_WS.includes(c) && !SYNTACTIC.includes(c)) r += 1;
        else break;
      }
      return r > q ? { end: r, value: [makeFragment(s.slice(q, r), 1)] } : null;
    });
  }

  private freeWord(p: number): Result<CompelNode[]> {
    let r = p;
    while (r < this.s.length && !STRING_WS.includes(this.s[r])) r += 1;
    return r > p ? { end: r, value: [makeFragment(this.s.slice(p, r), 1)] } : null;
  }

  /** QuotedString, its content re-parsed by `fragment_including_commas_or_periods` or `prompt`. */
  quoted(p: number, mode: "fragment" | "prompt"): Result<CompelNode[]> {
    return this.cached(`q${mode}`, p, () => {
      const m = this.regex(p, QUOTED_RE);
      if (!m) return null;
      const content = unquote(m.value.slice(1, -1));
      if (isPyStripEmpty(content)) return { end: m.end, value: [makeFragment("", 1)] };
      const source = pyExpandTabs(content.replaceAll('"', '\\"'));
      const inner = new CompelGrammar(source);
      const parsed = mode === "fragment" ? inner.fragmentList(0, true) : inner.prompt(0);
      if (inner.skip(parsed.end) !== source.length) return null;
      return { end: m.end, value: parsed.value };
    });
  }

  parenthesized(p: number): Result<CompelNode[]> {
    return this.cached("paren", p, () => {
      const q = this.lit(p, "(");
      if (q < 0) return null;
      const inner = this.fragmentList(q, true);
      const e = this.lit(inner.end, ")");
      return e < 0 ? null : { end: e, value: inner.value };
    });
  }

  private target(p: number): Result<CompelNode[]> {
    return this.quoted(p, "fragment") ?? this.parenthesized(p) ?? this.nonSyntaxWord(p);
  }

  /** ZeroOrMore(fragment parts [+ "," | "."]): `fragment_including_commas_or_periods` / `_excluding_commas`. */
  fragmentList(p: number, commas: boolean): Match<CompelNode[]> {
    return this.cached(commas ? "fincl" : "fexcl", p, () => {
      const value: CompelNode[] = [];
      let pos = p;
      for (;;) {
        const part =
          this.lora(pos) ??
          this.attention(pos) ??
          this.swap(pos) ??
          this.parenthesized(pos) ??
          this.quoted(pos, "fragment") ??
          this.nonSyntaxWord(pos) ??
          (commas ? this.commaOrPeriod(pos) : null);
        if (!part) break;
        value.push(...part.value);
        pos = part.end;
      }
      return { end: pos, value };
    }) as Match<CompelNode[]>;
  }

  private commaOrPeriod(p: number): Result<CompelNode[]> {
    const q = this.skip(p);
    const c = this.s[q];
    return c === "," || c === "." ? { end: q + 1, value: [makeFragment(c, 1)] } : null;
  }

  private number(p: number): Result<number> {
    const real = this.regex(p, REAL_RE);
    if (real) return { end: real.end, value: pyFloat(real.value)! };
    const int = this.regex(p, INT_RE);
    return int ? { end: int.end, value: Number(int.value) } : null;
  }

  private weightOp(p: number, numbers: boolean): Result<WeightOp> {
    const plus = this.regex(p, /\++/y) ?? this.regex(p, /-+/y);
    if (plus) return plus;
    return numbers ? this.number(p) : null;
  }

  private attentionFrom(target: CompelNode[], op: WeightOp): CompelNode {
    const weight =
      typeof op === "number" ? op : exactPowInt(op[0] === "+" ? PLUS_BASE : MINUS_BASE, op.length);
    return { type: "attention", weight, children: target };
  }

  attention(p: number): Result<CompelNode[]> {
    return this.cached("att", p, () => {
      const target = this.target(p);
      if (target) {
        const a = this.lit(this.lit(target.end, ".attend"), "(");
        if (a >= 0) {
          const op = this.weightOp(a, true);
          const e = op ? this.lit(op.end, ")") : -1;
          if (op && e >= 0) return { end: e, value: [this.attentionFrom(target.value, op.value)] };
        }
      }
      const group = this.quoted(p, "fragment") ?? this.parenthesized(p);
      if (group && !this.isWhiteAt(group.end)) {
        const op = this.weightOp(group.end, true);
        if (op) return { end: op.end, value: [this.attentionFrom(group.value, op.value)] };
      }
      const word = this.nonSyntaxWord(p);
      if (word && !this.isWhiteAt(word.end)) {
        const op = this.weightOp(word.end, false);
        if (op) return { end: op.end, value: [this.attentionFrom(word.value, op.value)] };
      }
      return null;
    });
  }

  private keyword(p: number): Result<string> {
    return this.regex(p, KEYWORD_RE);
  }

  private option(p: number): Result<OptionGroup> {
    const key = this.keyword(p);
    if (key) {
      const eq = this.lit(key.end, "=");
      if (eq >= 0) {
        const value = this.number(eq) ?? this.keyword(eq);
        if (value) return { end: value.end, value: [key.value, value.value] };
      }
    }
    const num = this.number(p);
    if (num) return { end: num.end, value: [pyFloatRepr(num.value)] };
    return key ? { end: key.end, value: [key.value] } : null;
  }

  /** pp.Dict(Optional(delimited_list(option))): the option groups in order. */
  private options(p: number): Match<OptionGroup[]> {
    const groups: OptionGroup[] = [];
    const first = this.option(p);
    if (!first) return { end: p, value: groups };
    groups.push(first.value);
    let pos = first.end;
    for (;;) {
      const comma = this.lit(pos, ",");
      const next = comma >= 0 ? this.option(comma) : null;
      if (!next) break;
      groups.push(next.value);
      pos = next.end;
    }
    return { end: pos, value: groups };
  }

  swap(p: number): Result<CompelNode[]> {
    return this.cached("swap", p, () => {
      const target = this.target(p);
      if (!target) return null;
      const open = this.lit(this.lit(target.end, ".swap"), "(");
      if (open < 0) return null;
      const replacement = this.fragmentList(open, false);
      let pos = replacement.end;
      let groups: OptionGroup[] = [];
      const comma = this.lit(pos, ",");
      if (comma >= 0) {
        const opts = this.options(comma);
        groups = opts.value;
        pos = opts.end;
      }
      const close = this.lit(pos, ")");
      if (close < 0) return null;
      return { end: close, value: [makeSwap(target.value, replacement.value, dictOf(groups))] };
    });
  }

  lora(p: number): Result<CompelNode[]> {
    return this.cached("lora", p, () => {
      let q = this.lit(p, "useLora");
      if (q < 0) q = this.lit(p, "withLora");
      q = this.lit(q, "(");
      if (q < 0) return null;
      const model = this.keyword(q);
      if (!model) return null;
      let pos = model.end;
      let weight = 1;
      const comma = this.lit(pos, ",");
      const num = comma >= 0 ? this.number(comma) : null;
      if (num) {
        weight = num.value;
        pos = num.end;
      }
      const close = this.lit(pos, ")");
      if (close < 0) return null;
      return { end: close, value: [{ type: "lora", model: model.value, weight }] };
    });
  }

  /** Top-level `prompt`: ZeroOrMore(swap | lora | attention | quoted | parenthesized | free word | white). */
  prompt(p: number): Match<CompelNode[]> {
    const value: CompelNode[] = [];
    let pos = p;
    for (;;) {
      const part =
        this.swap(pos) ??
        this.lora(pos) ??
        this.attention(pos) ??
        this.quoted(pos, "fragment") ??
        this.parenthesized(pos) ??
        this.freeWord(pos);
      if (part) {
        value.push(...part.value);
        pos = part.end;
      } else if (this.isWhiteAt(pos)) {
        while (this.isWhiteAt(pos)) pos += 1;
      } else break;
    }
    return { end: pos, value };
  }

  /** `( target, ... ).blend(options)` or `.and(...)` / `.add(...)`. */
  private multi(
    p: number,
    operators: string[],
  ): Result<{ prompts: CompelNode[][]; groups: OptionGroup[] }> {
    let q = this.lit(p, "(");
    if (q < 0) return null;
    const first = this.target(q) ?? this.quoted(q, "prompt");
    if (!first) return null;
    const prompts: CompelNode[][] = [first.value];
    q = first.end;
    for (;;) {
      const comma = this.lit(q, ",");
      const next = comma >= 0 ? (this.target(comma) ?? this.quoted(comma, "prompt")) : null;
      if (!next) break;
      prompts.push(next.value);
      q = next.end;
    }
    q = this.lit(q, ")");
    if (q < 0) return null;
    let op = -1;
    for (const name of operators) if (op < 0) op = this.lit(q, name);
    const open = this.lit(op, "(");
    if (open < 0) return null;
    const opts = this.options(open);
    const close = this.lit(opts.end, ")");
    return close < 0 ? null : { end: close, value: { prompts, groups: opts.value } };
  }

  blend(p: number): Result<CompelBlend> {
    const m = this.multi(p, [".blend"]);
    return m ? { end: m.end, value: makeBlend(m.value.prompts, m.value.groups) } : null;
  }

  explicitConjunction(p: number): Result<CompelConjunction> {
    const m = this.multi(p, [".and", ".add"]);
    return m ? { end: m.end, value: makeConjunction(m.value.prompts, m.value.groups) } : null;
  }

  /** `conjunction = explicit_conjunction | implicit_conjunction` (parse_string without parse_all). */
  conjunction(): CompelConjunction {
    const explicit = this.explicitConjunction(0);
    if (explicit) return explicit.value;
    const parts: (CompelNode[] | CompelBlend)[] = [];
    const leading = this.loras(0);
    if (leading) parts.push(leading.value);
    let pos = leading?.end ?? 0;
    const blend = this.blend(pos);
    if (blend) {
      parts.push(blend.value);
      pos = blend.end;
    } else {
      const prompt = this.prompt(pos);
      parts.push(prompt.value);
      pos = prompt.end;
    }
    const trailing = this.loras(pos);
    if (trailing) {
      parts.push(trailing.value);
      pos = trailing.end;
    }
    const end = this.skip(pos);
    if (end !== this.s.length) {
      // Python positions count code points, not UTF-16 units
      const points = [...this.s];
      const at = [...this.s.slice(0, end)].length;
      throw new CompelParseError(
        "ParseException",
        `Expected end of text, found ${pyRepr(foundWord(this.s, end))}  (at char ${at}), (line:${lineOf(points, at)}, col:${columnOf(points, at)})`,
      );
    }
    return { type: "conjunction", prompts: parts, weights: parts.map(() => 1.0) };
  }

  private loras(p: number): Result<CompelNode[]> {
    const value: CompelNode[] = [];
    let pos = p;
    for (let l = this.lora(pos); l; l = this.lora(pos)) {
      value.push(...l.value);
      pos = l.end;
    }
    return value.length > 0 ? { end: pos, value } : null;
  }
}
