import { ClipEdgeError } from "../errors.ts";

/** How a preset turns one encoder's outputs into its share of `prompt_embeds`. */
export type HiddenStateRule =
  /** sd1/sd2: last_hidden_state; clip_skip k -> HF hidden_states[-(k+1)] + final LN. */
  | "final-ln"
  /** sdxl: HF hidden_states[-(k+2)] without final LN (k = 0 -> hidden_states[-2]). */
  | "penultimate-pre-ln";

export interface PresetEncoder {
  role: string;
  padId: number;
  /** Contributes features to prompt_embeds (concatenated in encoder order). */
  hiddenStates: HiddenStateRule | null;
}

export interface Preset {
  name: string;
  description: string;
  encoders: PresetEncoder[];
  /** Pooled output: which encoder and which graph output; null = none. */
  pooled: { encoder: number; output: "text_embeds" | "pooled" } | null;
  /** sdxl: an undefined negative prompt gives zero negative tensors. */
  forceZerosForEmptyNegative: boolean;
  /** flux: negative tensors only when a negative prompt is given. */
  negativeOnlyWhenGiven: boolean;
  maxLength: number;
}

const CLIP_L = 49407;
const OPEN_CLIP = 0;

export const PRESET_NAMES = ["sd15", "sd2", "sdxl", "flux"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const PRESETS: Record<PresetName, Preset> = {
  sd15: {
    name: "sd15",
    description: "Stable Diffusion 1.x: CLIP ViT-L/14 last_hidden_state [77, 768]",
    encoders: [{ role: "text_encoder", padId: CLIP_L, hiddenStates: "final-ln" }],
    pooled: null,
    forceZerosForEmptyNegative: false,
    negativeOnlyWhenGiven: false,
    maxLength: 77,
  },
  sd2: {
    name: "sd2",
    description:
      "Stable Diffusion 2.x: OpenCLIP ViT-H text (23 layers) last_hidden_state [77, 1024]",
    encoders: [{ role: "text_encoder", padId: OPEN_CLIP, hiddenStates: "final-ln" }],
    pooled: null,
    forceZerosForEmptyNegative: false,
    negativeOnlyWhenGiven: false,
    maxLength: 77,
  },
  sdxl: {
    name: "sdxl",
    description:
      "SDXL: concat(CLIP ViT-L, OpenCLIP bigG) hidden_states[-2] without final LN [77, 2048]; pooled = bigG text_embeds",
    encoders: [
      { role: "text_encoder", padId: CLIP_L, hiddenStates: "penultimate-pre-ln" },
      { role: "text_encoder_2", padId: OPEN_CLIP, hiddenStates: "penultimate-pre-ln" },
    ],
    pooled: { encoder: 1, output: "text_embeds" },
    forceZerosForEmptyNegative: true,
    negativeOnlyWhenGiven: false,
    maxLength: 77,
  },
  flux: {
    name: "flux",
    description: "Flux: CLIP ViT-L pooled output (768, unprojected); the T5 part is out of scope",
    encoders: [{ role: "text_encoder", padId: CLIP_L, hiddenStates: null }],
    pooled: { encoder: 0, output: "pooled" },
    forceZerosForEmptyNegative: false,
    negativeOnlyWhenGiven: true,
    maxLength: 77,
  },
};

export function getPreset(name: string): Preset {
  if (!isPresetName(name)) {
    throw new ClipEdgeError(
      "invalid_request",
      `preset "${name}" is unknown; expected one of ${PRESET_NAMES.join(", ")}`,
    );
  }
  return PRESETS[name];
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}
