import { ClipEdgeError } from "../../conditioning/errors.ts";
import { parseA1111Attention } from "../../conditioning/prompt/a1111-attention.ts";
import { parseComfyWeights } from "../../conditioning/prompt/comfy-weights.ts";
import { parseCompel } from "../../conditioning/prompt/compel.ts";
import { flattenPrompt, parsePrompt } from "../../conditioning/prompt/parse-prompt.ts";
import type { PromptSyntax } from "../../conditioning/prompt/types.ts";
import {
  type Command,
  parseCommandArgs,
  readJsonLines,
  requireOption,
  textField,
} from "../command.ts";

const USAGE = `Usage: clip-edge parse --syntax a1111|comfy|compel|none [--full [--steps N]]

Reads JSON Lines {"text": "..."} from stdin and writes one JSON line per input, in the shape of
the reference parser's output (see docs/prompt-syntax.md):
  a1111   {"attention": [[text, weight], ...]}   A1111 parse_prompt_attention
  comfy   {"segments": [[text, weight], ...]}    ComfyUI token_weights, unescaped
  compel  {"fragments": [...]}                    compel parse_conjunction, flattened parts
A text the reference parser rejects gives {"error": "..."} on its line and parsing continues.
Non-finite weights are written as the strings "Infinity", "-Infinity" and "NaN".

Options:
  --syntax S   a1111, comfy, compel (or none, with --full)
  --full       write {"conditionings": [...]} instead: AND parts, schedules resolved over
               --steps, blends and swaps, as the encoder stage consumes them
  --steps N    sampling steps for A1111 [a:b:when] / [a|b] schedules (default 20, --full only)
  -h, --help   Show this help
`;

const SYNTAXES = ["a1111", "comfy", "compel", "none"];

/**
 * Compact JSON, except that weights keep what JSON.stringify loses: non-finite numbers are
 * written as the strings "Infinity", "-Infinity", "NaN" (like the goldens) and -0 as -0.0.
 */
function toJson(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return JSON.stringify(String(value));
    return Object.is(value, -0) ? "-0.0" : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function toJsonLine(value: unknown): string {
  return `${toJson(value)}\n`;
}

function referenceLine(syntax: PromptSyntax, text: string): unknown {
  switch (syntax) {
    case "a1111": {
      const attention = parseA1111Attention(text);
      return "error" in attention ? attention : { attention };
    }
    case "comfy":
      return { segments: parseComfyWeights(text) };
    case "compel": {
      const result = parseCompel(text);
      return "error" in result ? result : { fragments: result.fragments };
    }
    default:
      throw new ClipEdgeError("usage", "parse: --syntax none needs --full");
  }
}

export const command: Command = {
  name: "parse",
  summary: "Parse prompt weighting (A1111, ComfyUI, compel) from JSON Lines {text}",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("parse", argv, {
      syntax: { type: "string" },
      full: { type: "boolean", default: false },
      steps: { type: "string" },
    });
    const syntax = requireOption("parse", "syntax", values.syntax);
    if (!SYNTAXES.includes(syntax)) {
      throw new ClipEdgeError(
        "usage",
        `parse: --syntax must be one of a1111, comfy, compel, none; got ${JSON.stringify(syntax)}`,
      );
    }
    if (syntax === "none" && !values.full) {
      throw new ClipEdgeError("usage", "parse: --syntax none needs --full");
    }
    let steps = 20;
    if (values.steps !== undefined) {
      if (!values.full) throw new ClipEdgeError("usage", "parse: --steps needs --full");
      steps = Number(values.steps);
      if (!/^[0-9]+$/.test(values.steps) || steps < 1) {
        throw new ClipEdgeError(
          "usage",
          `parse: --steps must be a positive integer, got ${JSON.stringify(values.steps)}`,
        );
      }
    }
    for await (const { line, value } of readJsonLines(io.stdin)) {
      let out: unknown;
      try {
        const text = textField(value, line);
        out = values.full
          ? {
              conditionings: flattenPrompt(
                parsePrompt(text, { syntax: syntax as PromptSyntax, steps }),
              ),
            }
          : referenceLine(syntax as PromptSyntax, text);
      } catch (error) {
        if (!(error instanceof ClipEdgeError) || error.code !== "invalid_input") throw error;
        const reference = error.details?.reference;
        out = { error: typeof reference === "string" ? reference : error.message };
      }
      io.stdout.write(toJsonLine(out));
    }
    return 0;
  },
};
