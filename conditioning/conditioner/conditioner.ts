/**
 * The conditioner: a parsed request (`request-schema.ts`) -> diffusers conditioning
 * tensors, in Compel-like stages: parse -> flatten -> chunk (`prompt-items.ts`),
 * bound (`work-bounds.ts`), encode -> weight (`encode-items.ts`, `item-weighting.ts`), assemble (`assemble-result.ts`).
 */
import type { TensorFactory } from "../encoder/session.ts";
import { ClipEdgeError } from "../errors.ts";
import { assembleResult } from "./assemble-result.ts";
import { defaultPromptParsers } from "./default-parsers.ts";
import { encodeItems } from "./encode-items.ts";
import type { PromptParsers } from "./fragments.ts";
import { getPreset, type Preset } from "./presets.ts";
import { tokeniseRequest } from "./prompt-items.ts";
import { normaliseRequest } from "./request.ts";
import type { ConditioningRequest } from "./request-schema.ts";
import type { ConditioningResult, EncoderBinding } from "./types.ts";
import { checkWork, type WorkLimits } from "./work-bounds.ts";

export interface ConditionerOptions {
  preset: string | Preset;
  /** One per preset encoder, in the preset's order (sdxl: CLIP-L, then bigG). */
  encoders: EncoderBinding[];
  tensorFactory: TensorFactory;
  /** Prompt parsers per syntax; default: conditioning/prompt's A1111, ComfyUI and Compel. */
  parsers?: PromptParsers;
  /** Largest batch per session.run (default 16). */
  maxBatch?: number;
  /** Most 77-token chunks per prompt in chunk mode (default 32); more is `too_large`. */
  maxChunks?: number;
  /** composition "a1111": most conditionings per request (default 256); more is `too_large`. */
  maxConditionings?: number;
  /**
   * Bounds on images per prompt, encoder work and the answer's size, checked after
   * tokenisation and before any encoding (`work-bounds.ts`); absent = unbounded.
   */
  limits?: WorkLimits;
}

export interface Conditioner {
  readonly preset: Preset;
  /** `request` has passed `ConditioningRequestSchema` (`parseConditioningRequest`). */
  encode(request: ConditioningRequest): Promise<ConditioningResult>;
}

export function createConditioner(options: ConditionerOptions): Conditioner {
  const preset = typeof options.preset === "string" ? getPreset(options.preset) : options.preset;
  if (options.encoders.length !== preset.encoders.length) {
    throw new ClipEdgeError(
      "invalid_input",
      `preset ${preset.name} needs ${preset.encoders.length} encoder(s) (${preset.encoders.map((e) => e.role).join(", ")}), got ${options.encoders.length}`,
    );
  }
  const parsers = { ...defaultPromptParsers(), ...options.parsers };
  const { encoders } = options;
  return {
    preset,
    async encode(request) {
      const req = normaliseRequest(request);
      const tokenised = tokeniseRequest(req, { ...options, preset, parsers });
      checkWork(req, tokenised, preset, encoders, options.limits ?? {});
      const { positives, negatives } = tokenised;
      const isNegative = (i: number) =>
        i >= positives.length && i < positives.length + negatives.length;
      const encoded = await encodeItems(tokenised.items, isNegative, req, { ...options, preset });
      return assembleResult(preset, encoders, req, tokenised, encoded);
    },
  };
}
