import {
  type CompelBlend,
  type CompelConjunction,
  type CompelNode,
  CompelParseError,
  type CompelSwap,
  makeFragment,
  type OptionValue,
  reprFloats,
  reprPrompts,
} from "./compel-nodes.ts";
import { pyFloat, pyRepr } from "./py-text.ts";

/** compel's `make_operator_object` and node constructors, with the checks they raise from. */

/** Tokens of one `option` group: `[key, value]`, `[number text]` or `[flag]`. */
export type OptionGroup = OptionValue[];

/** QuotedString(quote_char='"', esc_quote='\\"') unquoting: whitespace escapes, then `\"`. */
export function unquote(raw: string): string {
  const ws: Record<string, string> = { t: "\t", n: "\n", f: "\f", r: "\r" };
  return raw.replace(/\\([tnfr])/g, (_m, c: string) => ws[c]).replaceAll('\\"', '"');
}

function pyFloatOrThrow(value: OptionValue): number {
  if (typeof value === "number") return value;
  const parsed = pyFloat(value);
  if (parsed === undefined) {
    throw new CompelParseError("ValueError", `could not convert string to float: ${pyRepr(value)}`);
  }
  return parsed;
}

/** pp.Dict over option groups: `key=value` -> value, a lone token -> "". */
export function dictOf(groups: OptionGroup[]): Record<string, OptionValue> {
  const dict: Record<string, OptionValue> = {};
  for (const g of groups) dict[String(g[0])] = g.length === 1 ? "" : g[1];
  return dict;
}

/** compel CrossAttentionControlSubstitute.__init__: defaults, shape_freedom, then the options. */
export function makeSwap(
  original: CompelNode[],
  edited: CompelNode[],
  options: Record<string, OptionValue>,
): CompelSwap {
  const merged: Record<string, OptionValue> = {
    s_start: 0.0,
    s_end: 0.0,
    t_start: 0.2,
    t_end: 1.0,
  };
  const rest = { ...options };
  if ("shape_freedom" in rest) {
    const freedom = rest.shape_freedom;
    delete rest.shape_freedom;
    if (typeof freedom !== "number") {
      throw new CompelParseError(
        "TypeError",
        "unsupported operand type(s) for ** or pow(): 'str' and 'float'",
      );
    }
    merged.s_end = 1.0 - freedom ** (1 / 3);
  }
  Object.assign(merged, rest);
  return {
    type: "swap",
    original: original.length > 0 ? original : [makeFragment("", 1)],
    edited: edited.length > 0 ? edited : [makeFragment("", 1)],
    options: merged,
  };
}

/** `.blend(...)`: trailing `no_normalize` flag, weights default to 1.0, counts must match. */
export function makeBlend(prompts: CompelNode[][], groups: OptionGroup[]): CompelBlend {
  let raw = groups;
  let normalizeWeights = true;
  if (raw.length > 0 && raw[raw.length - 1][0] === "no_normalize") {
    normalizeWeights = false;
    raw = raw.slice(0, -1);
  }
  let weights = raw.map((g) => pyFloatOrThrow(g[0]));
  if (weights.length === 0) weights = prompts.map(() => 1.0);
  if (prompts.length !== weights.length) {
    throw new CompelParseError(
      "ParsingException",
      `while parsing Blend: mismatched prompts/weights counts ${reprPrompts(prompts)}, ${reprFloats(weights)}`,
    );
  }
  if (prompts.some((prompt) => prompt.some((node) => node.type === "swap"))) {
    throw new CompelParseError(
      "ParsingException",
      "while parsing Blend: sorry, you cannot do .swap() as part of a Blend",
    );
  }
  return { type: "blend", prompts, weights, normalizeWeights };
}

/** `.and(...)` / `.add(...)`: weights default to 1.0 each, counts must match. */
export function makeConjunction(prompts: CompelNode[][], groups: OptionGroup[]): CompelConjunction {
  let weights = groups.map((g) => pyFloatOrThrow(g[0]));
  if (weights.length === 0) weights = prompts.map(() => 1.0);
  if (weights.length !== prompts.length) {
    throw new CompelParseError(
      "ParsingException",
      `while parsing Conjunction: mismatched parts/weights counts ${reprPrompts(prompts)}, ${reprFloats(weights)}`,
    );
  }
  return { type: "conjunction", prompts, weights };
}
