import { ClipEdgeError } from "../errors.ts";
import { resolveClipSkip } from "./clip-skip.ts";
import { defaultSyntax } from "./fragments.ts";
import type {
  ConditioningRequest,
  LongPromptMode,
  OutputDtype,
  PromptSyntax,
  WeightingMode,
} from "./types.ts";

export interface NormalisedRequest {
  prompts: string[];
  /** One entry per prompt; null = not given. */
  negatives: (string | null)[];
  negativeGiven: boolean;
  /** Per prompt, or null when prompt_2 / negative_prompt_2 is not given. */
  prompts2: string[] | null;
  negatives2: string[] | null;
  clipSkip: number;
  clipSkipNegative: boolean;
  weighting: WeightingMode;
  syntax: PromptSyntax | null;
  longPrompt: LongPromptMode;
  commaBacktrack: number;
  numImagesPerPrompt: number;
  guidance: boolean;
  dtype: OutputDtype;
  /** "a1111": also return AND / schedule conditionings; null: off. */
  composition: "a1111" | null;
  /** Sampling steps for schedules (composition only). */
  steps: number;
}

const WEIGHTINGS: WeightingMode[] = ["none", "a1111", "a1111-no-norm", "comfy", "compel"];
const SYNTAXES: PromptSyntax[] = ["a1111", "comfy", "compel"];

function bad(message: string): ClipEdgeError {
  return new ClipEdgeError("invalid_request", message);
}

function oneOf<T extends string>(name: string, value: unknown, allowed: T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw bad(`${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function normaliseRequest(request: ConditioningRequest): NormalisedRequest {
  if (!request || typeof request !== "object") throw bad("request must be an object");
  const { prompt, prompts } = request;
  if (prompt !== undefined && prompts !== undefined) throw bad("give prompt or prompts, not both");
  let list: string[];
  if (prompts !== undefined) {
    if (!Array.isArray(prompts) || prompts.length === 0) {
      throw bad("prompts must be a non-empty array of strings");
    }
    list = prompts;
  } else if (prompt !== undefined) {
    list = [prompt];
  } else {
    throw bad("prompt (string) or prompts (string[]) is required");
  }
  list.forEach((p, i) => {
    if (typeof p !== "string") throw bad(`prompts[${i}] must be a string, got ${typeof p}`);
  });
  const neg = request.negative_prompt;
  let negatives: (string | null)[];
  if (neg === undefined || neg === null) negatives = list.map(() => null);
  else if (typeof neg === "string") negatives = list.map(() => neg);
  else if (Array.isArray(neg)) {
    if (neg.length !== list.length) {
      throw bad(`negative_prompt has ${neg.length} entries for ${list.length} prompts`);
    }
    neg.forEach((n, i) => {
      if (typeof n !== "string") throw bad(`negative_prompt[${i}] must be a string`);
    });
    negatives = neg;
  } else throw bad("negative_prompt must be a string or an array of strings");

  const perPrompt = (name: string, value: unknown): string[] | null => {
    if (value === undefined || value === null) return null;
    if (typeof value === "string") return list.map(() => value);
    if (
      Array.isArray(value) &&
      value.length === list.length &&
      value.every((v) => typeof v === "string")
    ) {
      return value;
    }
    throw bad(`${name} must be a string or an array of ${list.length} strings`);
  };
  const prompts2 = perPrompt("prompt_2", request.prompt_2);
  const negatives2 = perPrompt("negative_prompt_2", request.negative_prompt_2);
  const weighting = oneOf("weighting", request.weighting, WEIGHTINGS, "none");
  const syntax =
    request.syntax === undefined || request.syntax === null
      ? defaultSyntax(weighting)
      : oneOf("syntax", request.syntax, SYNTAXES, "a1111");
  const n = request.num_images_per_prompt ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw bad(`num_images_per_prompt must be an integer in 1..64, got ${JSON.stringify(n)}`);
  }
  const backtrack = request.comma_padding_backtrack ?? 0;
  if (!Number.isInteger(backtrack) || backtrack < 0 || backtrack > 74) {
    throw bad(
      `comma_padding_backtrack must be an integer in 0..74, got ${JSON.stringify(backtrack)}`,
    );
  }
  const composition =
    request.composition === undefined || request.composition === null
      ? null
      : oneOf("composition", request.composition, ["a1111"], "a1111");
  if (composition !== null && syntax !== "a1111") {
    throw bad(
      `composition "a1111" needs the A1111 syntax (syntax "a1111" or weighting a1111 / a1111-no-norm), got ${syntax ?? "none"}`,
    );
  }
  if (composition !== null && (prompts2 || negatives2)) {
    throw bad("composition does not combine with prompt_2 / negative_prompt_2");
  }
  if (request.steps !== undefined && request.steps !== null && composition === null) {
    throw bad('steps applies to composition "a1111" only');
  }
  const steps = request.steps ?? 20;
  if (!Number.isInteger(steps) || steps < 1 || steps > 1000) {
    throw bad(`steps must be an integer in 1..1000, got ${JSON.stringify(steps)}`);
  }
  return {
    prompts: list,
    composition,
    steps,
    commaBacktrack: backtrack,
    negatives,
    // diffusers: force_zeros applies when negative_prompt is None, whatever negative_prompt_2 is.
    negativeGiven: neg !== undefined && neg !== null,
    prompts2,
    negatives2,
    clipSkip: resolveClipSkip(request.clip_skip, request.a1111_clip_skip),
    clipSkipNegative: request.clip_skip_negative === true,
    weighting,
    syntax,
    longPrompt: oneOf("long_prompt", request.long_prompt, ["truncate", "chunk"], "truncate"),
    numImagesPerPrompt: n,
    guidance: request.do_classifier_free_guidance !== false,
    dtype: oneOf("dtype", request.dtype, ["float32", "float16"], "float32"),
  };
}
