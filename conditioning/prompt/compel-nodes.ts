import { pyRepr } from "./py-text.ts";

/** Compel parse-tree nodes (before flatten), mirroring compel's prompt_parser classes. */

export type OptionValue = number | string;

export interface CompelFragment {
  type: "fragment";
  text: string;
  weight: number;
}
export interface CompelAttention {
  type: "attention";
  weight: number;
  children: CompelNode[];
}
export interface CompelSwap {
  type: "swap";
  original: CompelNode[];
  edited: CompelNode[];
  options: Record<string, OptionValue>;
}
export interface CompelLora {
  type: "lora";
  model: string;
  weight: number;
}
export interface CompelBlend {
  type: "blend";
  /** One node list per blended prompt (compel's `Prompt` objects). */
  prompts: CompelNode[][];
  weights: number[];
  normalizeWeights: boolean;
}
export type CompelNode = CompelFragment | CompelAttention | CompelSwap | CompelLora;

/** Root: compel's `Conjunction` of prompts (node lists) or blends, each with a weight. */
export interface CompelConjunction {
  type: "conjunction";
  prompts: (CompelNode[] | CompelBlend)[];
  weights: number[];
}

/** compel's ParsingException / Python exceptions raised while parsing, with the reference text. */
export class CompelParseError extends Error {
  constructor(
    readonly pythonType: string,
    message: string,
  ) {
    super(`${pythonType}: ${message}`);
  }
}

/** compel `Fragment.__init__`: unescapes `\(`, `\)`, `\"` each time a Fragment is built. */
export function makeFragment(text: string, weight: number): CompelFragment {
  if (text.includes('\\"') || text.includes("\\(") || text.includes("\\)")) {
    text = text.replaceAll("\\(", "(").replaceAll("\\)", ")").replaceAll('\\"', '"');
  }
  return { type: "fragment", text, weight };
}

/** Python `repr(float)`: shortest round-trip digits, exponent outside [1e-4, 1e16). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let out: string;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) out = `0.${"0".repeat(-exp - 1)}${digits}`;
    else if (digits.length <= exp + 1) out = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
    else out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return negative ? `-${out}` : out;
}

/** compel `__repr__` of a node, as embedded in its error messages. */
export function reprNode(node: CompelNode | CompelNode[]): string {
  if (Array.isArray(node)) return `[${node.map(reprNode).join(", ")}]`;
  switch (node.type) {
    case "fragment":
      return `Fragment:'${node.text}'@${pyFloatRepr(node.weight)}`;
    case "attention":
      return `Attention:${reprNode(node.children)} * ${pyFloatRepr(node.weight)}`;
    case "lora":
      return `Lora('${node.model}'@${Number.isInteger(node.weight) ? node.weight : pyFloatRepr(node.weight)})`;
    case "swap":
      return `CrossAttentionControlSubstitute:(${reprNode(node.original)}->${reprNode(node.edited)} (${reprDict(node.options)})`;
  }
}

/** Python `repr(dict)` of swap options (string keys, float or string values). */
function reprDict(options: Record<string, OptionValue>): string {
  const items = Object.entries(options).map(
    ([k, v]) => `${pyRepr(k)}: ${typeof v === "number" ? pyFloatRepr(v) : pyRepr(v)}`,
  );
  return `{${items.join(", ")}}`;
}

export function reprPrompts(prompts: CompelNode[][], flattened = false): string {
  const name = flattened ? "FlattenedPrompt" : "Prompt";
  return `[${prompts.map((p) => `${name}:${reprNode(p)}`).join(", ")}]`;
}

export function reprFloats(values: number[]): string {
  return `[${values.map(pyFloatRepr).join(", ")}]`;
}
