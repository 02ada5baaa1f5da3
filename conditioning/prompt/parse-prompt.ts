import { ClipEdgeError } from "../errors.ts";
import { parseA1111Attention } from "./a1111-attention.ts";
import { parseA1111Multicond } from "./a1111-multicond.ts";
import { parseA1111Schedule } from "./a1111-schedule.ts";
import { parseComfyWeights } from "./comfy-weights.ts";
import { parseCompel } from "./compel.ts";
import type { CompelPairs, CompelPart } from "./compel-flatten.ts";
import type { PromptSyntax, WeightedFragment } from "./types.ts";

export interface ParsePromptOptions {
  syntax: PromptSyntax;
  /** A1111 schedules: sampling steps `[a:b:0.5]` and `[a|b]` resolve against (default 20). */
  steps?: number;
}

/** One A1111 scheduled text: used for steps `startStep..endAtStep` (1-based, inclusive). */
export interface A1111ScheduleEntry {
  startStep: number;
  endAtStep: number;
  text: string;
  fragments: WeightedFragment[];
}

/** One A1111 `AND` part with its composition weight and its step schedule. */
export interface A1111Part {
  text: string;
  weight: number;
  schedule: A1111ScheduleEntry[];
}

export type ParsedPrompt =
  | { syntax: "a1111"; steps: number; parts: A1111Part[] }
  | { syntax: "comfy"; fragments: WeightedFragment[] }
  | { syntax: "compel"; parts: CompelPart[]; loras: [string, number][] }
  | { syntax: "none"; fragments: WeightedFragment[] };

/** Converts `[text, weight]` pairs (A1111 attention / Comfy / compel) to fragments. */
export function toFragments(pairs: [string, number][]): WeightedFragment[] {
  return pairs.map(([text, weight]) =>
    text === "BREAK" && weight === -1 ? { text, weight, isBreak: true } : { text, weight },
  );
}

function compelFragments(pairs: CompelPairs): WeightedFragment[] {
  return pairs.map(([text, weight]) => ({ text, weight }));
}

function rejected(syntax: string, text: string, reference: string): ClipEdgeError {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return new ClipEdgeError(
    "invalid_input",
    `${syntax} prompt ${JSON.stringify(shown)}: the reference parser rejects it (${reference})`,
    { details: { syntax, reference } },
  );
}

function parseA1111(text: string, steps: number): ParsedPrompt {
  const multicond = parseA1111Multicond(text);
  const parts = multicond.parts.map((part): A1111Part => {
    const schedule = parseA1111Schedule(part.text, steps);
    if ("error" in schedule) throw rejected("a1111", text, schedule.error);
    let startStep = 1;
    const entries = schedule.map((entry): A1111ScheduleEntry => {
      const attention = parseA1111Attention(entry.text);
      if ("error" in attention) throw rejected("a1111", text, attention.error);
      const result = {
        startStep,
        endAtStep: entry.endAtStep,
        text: entry.text,
        fragments: toFragments(attention),
      };
      startStep = entry.endAtStep + 1;
      return result;
    });
    return { text: part.text, weight: part.weight, schedule: entries };
  });
  return { syntax: "a1111", steps, parts };
}

/**
 * Parses a prompt in one weighting syntax into a typed structure (`flattenPrompt` turns it into
 * conditionings of weighted fragments). Texts the reference parser rejects throw
 * ClipEdgeError("invalid_input") carrying the reference's error. Non-finite weights are kept, as
 * the references keep them: call `assertFiniteWeights` before encoding.
 */
export function parsePrompt(text: string, options: ParsePromptOptions): ParsedPrompt {
  if (typeof text !== "string") {
    throw new ClipEdgeError("invalid_input", `prompt must be a string, got ${typeof text}`);
  }
  switch (options.syntax) {
    case "a1111": {
      const steps = options.steps ?? 20;
      if (!Number.isInteger(steps) || steps < 1) {
        throw new ClipEdgeError("invalid_input", `steps must be a positive integer, got ${steps}`);
      }
      return parseA1111(text, steps);
    }
    case "comfy":
      return { syntax: "comfy", fragments: toFragments(parseComfyWeights(text)) };
    case "compel": {
      const result = parseCompel(text);
      if ("error" in result) throw rejected("compel", text, result.error);
      return { syntax: "compel", parts: result.fragments, loras: result.lora_weights };
    }
    case "none":
      return { syntax: "none", fragments: [{ text, weight: 1.0 }] };
    default:
      throw new ClipEdgeError(
        "invalid_input",
        `unknown prompt syntax ${JSON.stringify(options.syntax)} (expected a1111, comfy, compel or none)`,
      );
  }
}

/** One conditioning to encode: weighted fragments, or (compel) a blend / swap of several. */
export type Conditioning =
  | {
      kind: "prompt";
      /** Composition weight: A1111 `AND ... :w`, compel `.and(...)` weight; 1 otherwise. */
      weight: number;
      /** A1111 schedules: the 1-based inclusive step range this conditioning applies to. */
      steps?: { start: number; end: number };
      fragments: WeightedFragment[];
    }
  | {
      kind: "blend";
      weight: number;
      blendWeights: number[];
      normalizeWeights: boolean;
      prompts: WeightedFragment[][];
    }
  | {
      kind: "swap";
      weight: number;
      original: WeightedFragment[];
      edited: WeightedFragment[];
      edits: {
        original: WeightedFragment[];
        edited: WeightedFragment[];
        options: Record<string, number | string>;
      }[];
    };

/** Flattens a parsed prompt into the conditionings the encoder stage embeds. */
export function flattenPrompt(parsed: ParsedPrompt): Conditioning[] {
  switch (parsed.syntax) {
    case "a1111":
      return parsed.parts.flatMap((part) =>
        part.schedule.map(
          (entry): Conditioning => ({
            kind: "prompt",
            weight: part.weight,
            steps: { start: entry.startStep, end: entry.endAtStep },
            fragments: entry.fragments,
          }),
        ),
      );
    case "comfy":
    case "none":
      return [{ kind: "prompt", weight: 1.0, fragments: parsed.fragments }];
    case "compel":
      return parsed.parts.map((part): Conditioning => {
        if (part.kind === "prompt") {
          return {
            kind: "prompt",
            weight: part.conjunction_weight,
            fragments: compelFragments(part.fragments),
          };
        }
        if (part.kind === "blend") {
          return {
            kind: "blend",
            weight: part.conjunction_weight,
            blendWeights: part.blend_weights,
            normalizeWeights: part.normalize_weights,
            prompts: part.prompts.map(compelFragments),
          };
        }
        return {
          kind: "swap",
          weight: part.conjunction_weight,
          original: compelFragments(part.original),
          edited: compelFragments(part.edited),
          edits: part.edits.map((e) => ({
            original: compelFragments(e.original),
            edited: compelFragments(e.edited),
            options: e.options,
          })),
        };
      });
  }
}
