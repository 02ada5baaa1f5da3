/**
 * What one model can really serve in this deployment: its routes, presets and embedding
 * inputs, from its graphs' outputs, the PRESET_MODELS pairs it belongs to and whether an
 * origin is configured (images are embedded there).
 */
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import {
  PRESET_NAMES,
  PRESETS,
  type Preset,
  type PresetName,
} from "../../conditioning/conditioner/presets.ts";

export interface ModelServing {
  /** Model ids per preset (PRESET_MODELS), in encoder order. */
  presetModels: (preset: string) => readonly string[] | undefined;
  originConfigured: boolean;
}

export interface ServedByModel {
  serves: string[];
  presets: PresetName[];
  embeddingInputs: ("text" | "token_ids" | "image")[];
}

export function servedByModel(
  id: string,
  manifest: BundleManifest,
  serving: ModelServing,
): ServedByModel {
  const text = manifest.graphs.find((g) => g.kind === "text");
  if (!text) return { serves: [], presets: [], embeddingInputs: [] };
  const outputs = new Set(text.outputs);
  const presets = PRESET_NAMES.filter((name) => {
    const preset = PRESETS[name];
    const role = roleIn(preset, name, id, serving);
    return role >= 0 && outputsFor(preset, role).every((o) => outputs.has(o));
  });
  const embeds = outputs.has("text_embeds");
  const serves = ["/v1/tokenize"];
  if (presets.length > 0) serves.unshift("/v1/conditioning");
  if (embeds) serves.push("/v1/embeddings");
  if (embeds && serving.originConfigured) serves.push("/v1/score");
  const embeddingInputs: ServedByModel["embeddingInputs"] = embeds ? ["text", "token_ids"] : [];
  if (embeds && serving.originConfigured) embeddingInputs.push("image");
  return { serves, presets, embeddingInputs };
}

/**
 * The encoder this model is in `preset`: 0 for a one-encoder preset; for a pair (sdxl),
 * its place in PRESET_MODELS, else -1 (a single model cannot serve a pair preset).
 */
function roleIn(preset: Preset, name: string, id: string, serving: ModelServing): number {
  if (preset.encoders.length === 1) return 0;
  const ids = serving.presetModels(name);
  if (!ids || ids.length !== preset.encoders.length) return -1;
  return ids.indexOf(id);
}

/** The graph outputs a request at the default clip_skip reads from encoder `role`. */
function outputsFor(preset: Preset, role: number): string[] {
  const out: string[] = [];
  const rule = preset.encoders[role].hiddenStates;
  if (rule === "final-ln") out.push("last_hidden_state");
  if (rule === "penultimate-pre-ln") out.push("hidden_states_2");
  if (preset.pooled?.encoder === role) out.push(preset.pooled.output);
  return out;
}
