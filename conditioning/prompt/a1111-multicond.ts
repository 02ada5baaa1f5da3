import { PY_WS_CLASS, pyFloat } from "./py-text.ts";

/** One `AND` part: its text (trailing `:weight` and whitespace removed), weight and flat index. */
export interface MulticondPart {
  text: string;
  weight: number;
  /** Index into `texts`; identical parts share one index, like A1111's `prompt_indexes`. */
  index: number;
}

export interface Multicond {
  parts: MulticondPart[];
  /** Distinct part texts in first-seen order (A1111's `prompt_flat_list`). */
  texts: string[];
}

const AND_RE = /(?<![\p{L}\p{N}_])AND(?![\p{L}\p{N}_])/u;
const WEIGHT_RE = new RegExp(
  `^([^]*?)(?:[${PY_WS_CLASS}]*:[${PY_WS_CLASS}]*([-+]?(?:\\p{Nd}+\\.?|\\p{Nd}*\\.\\p{Nd}+)))?[${PY_WS_CLASS}]*$`,
  "u",
);

/**
 * A1111 `get_multicond_prompt_list([text])`: split on `\bAND\b` (uppercase, Unicode `\b`), take a
 * trailing `:number` of each part as its weight, strip trailing whitespace (leading is kept).
 */
export function parseA1111Multicond(text: string): Multicond {
  const parts: MulticondPart[] = [];
  const texts: string[] = [];
  const indexes = new Map<string, number>();
  for (const sub of text.split(AND_RE)) {
    const match = WEIGHT_RE.exec(sub);
    const partText = match ? match[1] : sub;
    const weight = match?.[2] !== undefined ? pyFloat(match[2])! : 1.0;
    let index = indexes.get(partText);
    if (index === undefined) {
      index = texts.length;
      texts.push(partText);
      indexes.set(partText, index);
    }
    parts.push({ text: partText, weight, index });
  }
  return { parts, texts };
}
