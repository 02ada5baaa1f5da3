import { ClipEdgeError } from "../errors.ts";
import type { LongPromptMode, PromptSyntax, WeightedFragment, WeightingMode } from "./types.ts";

/**
 * A prompt parser as the prompt module provides it. Any of these shapes is accepted:
 * `[text, weight][]`, `{text, weight}[]`, or the objects the `parse` CLI prints
 * (`{attention}`, `{segments}`, `{fragments}` with Compel's `kind: "prompt"|"swap"`).
 */
export type PromptParser = (text: string) => unknown;
export type PromptParsers = Partial<Record<PromptSyntax, PromptParser>>;

export function defaultSyntax(weighting: WeightingMode): PromptSyntax | null {
  switch (weighting) {
    case "none":
      return null;
    case "a1111":
    case "a1111-no-norm":
      return "a1111";
    case "comfy":
      return "comfy";
    case "compel":
      return "compel";
  }
}

/** Python-style \b around BREAK: letters, digits and _ are word characters. */
const BREAK_RE = /\s*(?<![\p{L}\p{N}\p{M}_])BREAK(?![\p{L}\p{N}\p{M}_])\s*/gu;

/**
 * The prompt as weighted fragments. `syntax` null (weighting "none") keeps the text
 * verbatim, as diffusers does; in chunk mode it still splits at BREAK.
 */
export function promptFragments(
  text: string,
  syntax: PromptSyntax | null,
  parsers: PromptParsers,
  longPrompt: LongPromptMode,
): WeightedFragment[] {
  if (syntax === null) {
    if (longPrompt !== "chunk") return [{ text, weight: 1 }];
    const parts = text.split(BREAK_RE);
    const out: WeightedFragment[] = [];
    parts.forEach((part, i) => {
      if (i > 0) out.push({ text: "BREAK", weight: -1 });
      out.push({ text: part, weight: 1 });
    });
    return out;
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
  const fragments = toFragments(parsed, syntax, text);
  for (const f of fragments) {
    if (!Number.isFinite(f.weight)) {
      throw new ClipEdgeError(
        "invalid_request",
        `prompt ${JSON.stringify(text.slice(0, 80))}: fragment ${JSON.stringify(f.text)} has non-finite weight ${f.weight}`,
        { details: { fragment: f.text, weight: String(f.weight) } },
      );
    }
  }
  return fragments;
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

function toFragments(parsed: unknown, syntax: PromptSyntax, text: string): WeightedFragment[] {
  if (Array.isArray(parsed) && (parsed.length === 0 || !isCompelPart(parsed[0]))) {
    return parsed.map(pair);
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
      if (Array.isArray(o[key])) return (o[key] as unknown[]).map(pair);
    }
    if (Array.isArray(o.fragments)) return toFragments(o.fragments, syntax, text);
  }
  if (Array.isArray(parsed)) return compelParts(parsed, text);
  throw new ClipEdgeError("internal", `prompt parser (${syntax}) returned an unexpected value`);
}

function isCompelPart(item: unknown): boolean {
  return !!item && typeof item === "object" && !Array.isArray(item) && "kind" in item;
}

/** Compel's conjunction parts: one plain prompt (or a swap's original) is supported. */
function compelParts(parts: unknown[], text: string): WeightedFragment[] {
  if (parts.length === 0) return [{ text: "", weight: 1 }];
  if (parts.length > 1) {
    throw new ClipEdgeError(
      "unsupported",
      `prompt ${JSON.stringify(text.slice(0, 80))}: compel .and() conjunctions of ${parts.length} prompts are not supported`,
    );
  }
  const part = parts[0] as { kind: string; fragments?: unknown[]; original?: unknown[] };
  if (part.kind === "prompt" && Array.isArray(part.fragments)) return part.fragments.map(pair);
  if (part.kind === "swap" && Array.isArray(part.original)) return part.original.map(pair);
  throw new ClipEdgeError(
    "unsupported",
    `prompt ${JSON.stringify(text.slice(0, 80))}: compel ${part.kind} prompts are not supported by the conditioner`,
  );
}
