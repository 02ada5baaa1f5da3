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
import {
  CompelScanner,
  isPyStripEmpty,
  type Match,
  PP_WS,
  type Result,
  STRING_WS,
  SYNTACTIC,
} from "./compel-scanner.ts";
import { exactPowInt } from "./exact-pow.ts";
import { pyExpandTabs } from "./py-text.ts";

/**
 * compel's pyparsing grammar (`build_parser_syntax`) as a memoised PEG: every rule is an ordered
 * choice with backtracking exactly like pyparsing's MatchFirst, but each (rule, position) is
 * evaluated once, so parsing is linear where compel's is exponential in `(` depth. Parse actions
 * are pure functions of the matched text, so memoising them does not change the result.
 */

const QUOTED_RE = /"(?:\\"|[^"\n\r])*"/y;

type WeightOp = string | number;

const PLUS_BASE = 1.1;
const MINUS_BASE = 0.9;

export class CompelGrammar extends CompelScanner {
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
      throw new CompelParseError("ParseException", this.endOfTextMessage(end));
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
