/**
 * The conditioning request: one zod schema, the single validation of every caller
 * (the worker's /v1/conditioning extends it, the CLI and library callers parse with
 * it). `createConditioner(...).encode` takes its parsed type and checks nothing again
 * except what depends on the models (clip skip vs exported hidden states, prompt_2 on
 * a one-encoder preset) or on the tokenised prompt (weight bounds, chunk, conditioning and
 * work limits).
 * Field names are snake_case on purpose: they are the JSON API's.
 */
import { z } from "zod";
import { ClipEdgeError } from "../errors.ts";

export const WEIGHTING_MODES = ["none", "a1111", "a1111-no-norm", "comfy", "compel"] as const;
export const PROMPT_SYNTAXES = ["a1111", "comfy", "compel"] as const;
export const LONG_PROMPT_MODES = ["truncate", "chunk"] as const;
export const OUTPUT_DTYPES = ["float32", "float16"] as const;

export type WeightingMode = (typeof WEIGHTING_MODES)[number];
export type PromptSyntax = (typeof PROMPT_SYNTAXES)[number];
export type LongPromptMode = (typeof LONG_PROMPT_MODES)[number];
export type OutputDtype = (typeof OUTPUT_DTYPES)[number];

/** Caps of the request (per-deployment limits such as MAX_PROMPTS are the worker's). */
export const REQUEST_CAPS = {
  numImagesPerPrompt: 16,
  commaPaddingBacktrack: 74,
  steps: 1000,
} as const;

/** Defaults of the optional fields (applied by `normaliseRequest`). */
export const REQUEST_DEFAULTS = {
  weighting: "none",
  long_prompt: "truncate",
  num_images_per_prompt: 1,
  comma_padding_backtrack: 0,
  do_classifier_free_guidance: true,
  clip_skip_negative: false,
  dtype: "float32",
  steps: 20,
} as const;

const intIn = (min: number, max: number) =>
  z
    .number()
    .int({ error: `must be an integer in ${min}..${max}` })
    .min(min, { error: `must be an integer in ${min}..${max}` })
    .max(max, { error: `must be an integer in ${min}..${max}` });

const intFrom = (min: number) =>
  z
    .number()
    .int({ error: `must be an integer >= ${min}` })
    .min(min, { error: `must be an integer >= ${min}` });

const textOrTexts = z.union([z.string(), z.array(z.string())]);

/** The fields, without the rules that relate them (`checkConditioningRequest`). */
export const ConditioningRequestFields = z.object({
  prompt: z.string().optional(),
  prompts: z
    .array(z.string())
    .min(1, { error: "prompts must be a non-empty array of strings" })
    .optional(),
  negative_prompt: textOrTexts
    .optional()
    .meta({ description: "One for every prompt, or one per prompt; absent: the preset's rule" }),
  prompt_2: textOrTexts
    .optional()
    .meta({ description: "sdxl: text for text_encoder_2 (default: prompt), as diffusers'" }),
  negative_prompt_2: textOrTexts
    .optional()
    .meta({ description: "sdxl: negative text for text_encoder_2 (default: negative_prompt)" }),
  clip_skip: intFrom(0)
    .optional()
    .meta({ description: "diffusers numbering (1 = the layer before the last; 0 = no skip)" }),
  a1111_clip_skip: intFrom(1)
    .optional()
    .meta({ description: "A1111 numbering: 1 = no skip, 2 = diffusers clip_skip 1" }),
  clip_skip_negative: z
    .boolean()
    .optional()
    .meta({ description: "Apply clip skip on the negative path too (diffusers does not)" }),
  weighting: z
    .enum(WEIGHTING_MODES)
    .optional()
    .meta({ description: `Default ${REQUEST_DEFAULTS.weighting}` }),
  syntax: z
    .enum(PROMPT_SYNTAXES)
    .optional()
    .meta({ description: "Parser syntax; default follows weighting (a1111-no-norm -> a1111)" }),
  long_prompt: z
    .enum(LONG_PROMPT_MODES)
    .optional()
    .meta({ description: `Default ${REQUEST_DEFAULTS.long_prompt}` }),
  comma_padding_backtrack: intIn(0, REQUEST_CAPS.commaPaddingBacktrack)
    .optional()
    .meta({ description: "A1111 comma back-tracking in chunk mode (default 0 = off)" }),
  num_images_per_prompt: intIn(1, REQUEST_CAPS.numImagesPerPrompt)
    .optional()
    .meta({ description: `Rows per prompt (default ${REQUEST_DEFAULTS.num_images_per_prompt})` }),
  do_classifier_free_guidance: z
    .boolean()
    .optional()
    .meta({ description: "Default true: negative tensors are produced" }),
  dtype: z
    .enum(OUTPUT_DTYPES)
    .optional()
    .meta({ description: `Default ${REQUEST_DEFAULTS.dtype}` }),
  composition: z
    .enum(["a1111"])
    .optional()
    .meta({ description: "Also return A1111 AND / schedule conditionings (A1111 syntax)" }),
  steps: intIn(1, REQUEST_CAPS.steps)
    .optional()
    .meta({ description: "Sampling steps for schedules (composition only; default 20)" }),
});

/** A request that passed `ConditioningRequestSchema` (what the conditioner takes). */
export type ConditioningRequest = z.output<typeof ConditioningRequestFields>;

/** The parser syntax of a weighting mode (null: "none", the text is used verbatim). */
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

interface IssueSink {
  addIssue(issue: { code: "custom"; message: string; path: PropertyKey[] }): void;
}

/**
 * The rules between fields, for `.superRefine` (also on schemas that extend or pick
 * the fields: absent fields pass).
 */
export function checkConditioningRequest(request: ConditioningRequest, ctx: IssueSink): void {
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", message, path: [path] });
  const { prompt, prompts } = request;
  if ((prompt === undefined) === (prompts === undefined)) {
    issue(
      "prompt",
      `give exactly one of prompt (a string) or prompts (an array)${prompt !== undefined ? ", not both" : ""}`,
    );
  }
  const count = prompts?.length ?? 1;
  if (Array.isArray(request.negative_prompt) && request.negative_prompt.length !== count) {
    issue(
      "negative_prompt",
      `negative_prompt has ${request.negative_prompt.length} entries for ${count} prompts`,
    );
  }
  for (const name of ["prompt_2", "negative_prompt_2"] as const) {
    const value = request[name];
    if (Array.isArray(value) && value.length !== count) {
      issue(name, `${name} must be a string or an array of ${count} strings, got ${value.length}`);
    }
  }
  const { clip_skip: skip, a1111_clip_skip: a1111Skip } = request;
  if (skip !== undefined && a1111Skip !== undefined && skip !== a1111Skip - 1) {
    issue(
      "a1111_clip_skip",
      `clip_skip ${skip} (diffusers) and a1111_clip_skip ${a1111Skip} disagree; a1111_clip_skip = clip_skip + 1`,
    );
  }
  if (request.composition !== undefined) {
    const syntax = request.syntax ?? defaultSyntax(request.weighting ?? REQUEST_DEFAULTS.weighting);
    if (syntax !== "a1111") {
      issue(
        "composition",
        `composition "a1111" needs the A1111 syntax (syntax "a1111" or weighting a1111 / a1111-no-norm), got ${syntax ?? "none"}`,
      );
    }
    if (request.prompt_2 !== undefined || request.negative_prompt_2 !== undefined) {
      issue("composition", "composition does not combine with prompt_2 / negative_prompt_2");
    }
  } else if (request.steps !== undefined) {
    issue("steps", 'steps applies to composition "a1111" only');
  }
}

export const ConditioningRequestSchema =
  ConditioningRequestFields.superRefine(checkConditioningRequest);

/** "invalid request: path: message; ..." for a failed parse (the worker's 422 reads the same). */
export function describeIssues(error: z.ZodError): string {
  const issues = error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`,
  );
  return `invalid request: ${issues.join("; ")}`;
}

/** Validates a request; a bad one is `ClipEdgeError("invalid_request")` naming each field. */
export function parseConditioningRequest(value: unknown): ConditioningRequest {
  const result = ConditioningRequestSchema.safeParse(value);
  if (!result.success) {
    throw new ClipEdgeError("invalid_request", describeIssues(result.error), {
      cause: result.error,
    });
  }
  return result.data;
}
