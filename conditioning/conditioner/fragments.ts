import { ClipEdgeError } from "../errors.ts";
import { splitBreak } from "../prompt/a1111-break.ts";
import type { LongPromptMode, PromptSyntax } from "./request-schema.ts";
import type { WeightedFragment } from "./types.ts";
import { checkBlendWeights, checkConjunctionWeight, checkFragmentWeight } from "./weight-bounds.ts";

/**
 * A prompt parser as the prompt module provides it. Any of these shapes is accepted:
 * `[text, weight][]`, `{text, weight}[]`, or the objects the `parse` CLI prints
 * (`{attention}`, `{segments}`, `{fragments}` with Compel's `kind: "prompt"|"swap"`).
 */
export type PromptParser = (text: string) => unknown;
export type PromptParsers = Partial<Record<PromptSyntax, PromptParser>>;

/** A Compel blend member list or a plain prompt (one member, weight 1). */
export interface PromptPart {
  /** Conjunction weight (Compel `.and(...)` weights); 1 for plain prompts. */
  weight: number;
  members: WeightedFragment[][];
  memberWeights: number[];
  normalize: boolean;
}

/** A parsed prompt: one part, or several concatenated along tokens (Compel `.and()`). */
export interface PromptStructure {
  parts: PromptPart[];
}

const single = (fragments: WeightedFragment[]): PromptStructure => ({
  parts: [{ weight: 1, members: [fragments], memberWeights: [1], normalize: true }],
});

/**
 * The prompt as weighted fragments (single-part prompts only; see `promptStructure`).
 * `syntax` null (weighting "none") keeps the text verbatim, as diffusers does; in chunk
 * mode it still splits at BREAK.
 */
export function promptFragments(
  text: string,
  syntax: PromptSyntax | null,
  parsers: PromptParsers,
  longPrompt: LongPromptMode,
): WeightedFragment[] {
  const structure = promptStructure(text, syntax, parsers, longPrompt);
  const part = structure.parts[0];
  if (structure.parts.length !== 1 || part.members.length !== 1) {
    throw new ClipEdgeError(
      "unsupported",
      `prompt ${JSON.stringify(text.slice(0, 80))}: blends and conjunctions have no single fragment list`,
    );
  }
  return part.members[0];
}

/**
 * Parses a prompt into its parts, members and weighted fragments; rejects weights that are
 * not finite or out of bounds (`weight-bounds.ts`), before any encoding.
 */
export function promptStructure(
  text: string,
  syntax: PromptSyntax | null,
  parsers: PromptParsers,
  longPrompt: LongPromptMode,
): PromptStructure {
  if (syntax === null) {
    if (longPrompt !== "chunk") return single([{ text, weight: 1 }]);
    const parts = splitBreak(text);
    const out: WeightedFragment[] = [];
    parts.forEach((part, i) => {
      if (i > 0) out.push({ text: "BREAK", weight: -1 });
      out.push({ text: part, weight: 1 });
    });
    return single(out);
  }
  const parser = parsers[syntax];
  if (!parser) {
    throw new ClipEdgeError(
      "unavailable",
      `prompt syntax ${syntax}: no parser was given to the conditioner`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parser(text);
  } catch (error) {
    throw new ClipEdgeError(
      "invalid_request",
      `prompt ${JSON.stringify(text.slice(0, 80))} does not parse as ${syntax}: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
  }
  const structure = toStructure(parsed, syntax, text);
  const label = JSON.stringify(text.slice(0, 80));
  structure.parts.forEach((part, p) => {
    checkConjunctionWeight(label, p, part.weight);
    if (part.members.length > 1 || part.memberWeights[0] !== 1) {
      checkBlendWeights(label, part.memberWeights, part.normalize);
    }
    for (const member of part.members) {
      for (const f of member) checkFragmentWeight(label, syntax, f.text, f.weight);
    }
  });
  return structure;
}

function pair(item: unknown): WeightedFragment {
  if (Array.isArray(item) && item.length === 2) {
    return { text: String(item[0]), weight: Number(item[1]) };
  }
  if (item && typeof item === "object" && "text" in item && "weight" in item) {
    const o = item as { text: unknown; weight: unknown };
    return { text: String(o.text), weight: Number(o.weight) };
  }
  throw new ClipEdgeError(
    "internal",
    `prompt parser returned an unexpected fragment ${JSON.stringify(item)}`,
  );
}

function toStructure(parsed: unknown, syntax: PromptSyntax, text: string): PromptStructure {
  if (Array.isArray(parsed) && (parsed.length === 0 || !isCompelPart(parsed[0]))) {
    return single(parsed.map(pair));
  }
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    if (typeof o.error === "string") {
      throw new ClipEdgeError(
        "invalid_request",
        `prompt ${JSON.stringify(text.slice(0, 80))}: ${o.error}`,
      );
    }
    for (const key of ["attention", "segments", "weighted"]) {
      if (Array.isArray(o[key])) return single((o[key] as unknown[]).map(pair));
    }
    if (Array.isArray(o.fragments)) return toStructure(o.fragments, syntax, text);
  }
  if (Array.isArray(parsed)) return compelParts(parsed, text);
  throw new ClipEdgeError("internal", `prompt parser (${syntax}) returned an unexpected value`);
}

function isCompelPart(item: unknown): boolean {
  return !!item && typeof item === "object" && !Array.isArray(item) && "kind" in item;
}

interface CompelPartLike {
  kind: string;
  conjunction_weight?: number;
  fragments?: unknown[];
  original?: unknown[];
  prompts?: unknown[][];
  blend_weights?: number[];
  normalize_weights?: boolean;
}

/**
 * Compel's conjunction parts (the parser's `fragments`): `prompt`, `swap` (its original
 * prompt) and `blend` (members blended with `blend_weights`); several parts are `.and()`.
 */
function compelParts(parts: unknown[], text: string): PromptStructure {
  if (parts.length === 0) return single([{ text: "", weight: 1 }]);
  return {
    parts: (parts as CompelPartLike[]).map((part) => {
      const weight = Number(part.conjunction_weight ?? 1);
      if (part.kind === "prompt" && Array.isArray(part.fragments)) {
        return { weight, members: [part.fragments.map(pair)], memberWeights: [1], normalize: true };
      }
      if (part.kind === "swap" && Array.isArray(part.original)) {
        return { weight, members: [part.original.map(pair)], memberWeights: [1], normalize: true };
      }
      if (
        part.kind === "blend" &&
        Array.isArray(part.prompts) &&
        Array.isArray(part.blend_weights)
      ) {
        if (part.prompts.length !== part.blend_weights.length || part.prompts.length === 0) {
          throw new ClipEdgeError(
            "invalid_request",
            `prompt ${JSON.stringify(text.slice(0, 80))}: blend of ${part.prompts.length} prompts has ${part.blend_weights.length} weights`,
          );
        }
        return {
          weight,
          members: part.prompts.map((p) => p.map(pair)),
          memberWeights: part.blend_weights.map(Number),
          normalize: part.normalize_weights !== false,
        };
      }
      throw new ClipEdgeError(
        "unsupported",
        `prompt ${JSON.stringify(text.slice(0, 80))}: compel ${part.kind} parts are not supported by the conditioner`,
      );
    }),
  };
}
