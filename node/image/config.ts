import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/** Image preprocessing parameters (the bundle manifest's `preprocessor`, minus the file name). */
export type PreprocessorConfig = Omit<NonNullable<BundleManifest["preprocessor"]>, "file">;

/** OpenAI CLIP's constants (`clip/clip.py` `_transform`), identical to every CLIP checkpoint's config. */
export const OPENAI_CLIP_PREPROCESSOR: PreprocessorConfig = {
  shortestEdge: 224,
  cropSize: { height: 224, width: 224 },
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  rescaleFactor: 1 / 255,
  resample: 3,
};

function num(value: unknown, name: string, label: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: "${name}" must be a number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function triple(value: unknown, name: string, label: string): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3) {
    throw new ClipEdgeError("invalid_input", `${label}: "${name}" must be an array of 3 numbers`);
  }
  return [num(value[0], name, label), num(value[1], name, label), num(value[2], name, label)];
}

/**
 * Reads a Hugging Face `preprocessor_config.json` (CLIPImageProcessor, or the older
 * CLIPFeatureExtractor with integer `size`/`crop_size`).
 */
export function parsePreprocessorConfig(
  json: unknown,
  label = "preprocessor_config.json",
): PreprocessorConfig {
  if (typeof json !== "object" || json === null) {
    throw new ClipEdgeError("invalid_input", `${label}: expected a JSON object`);
  }
  const c = json as Record<string, unknown>;
  const size = c.size;
  const shortestEdge =
    typeof size === "number"
      ? size
      : num(
          (size as Record<string, unknown> | undefined)?.shortest_edge,
          "size.shortest_edge",
          label,
        );
  const crop = c.crop_size ?? size;
  const cropSize =
    typeof crop === "number"
      ? { height: crop, width: crop }
      : {
          height: num((crop as Record<string, unknown>)?.height, "crop_size.height", label),
          width: num((crop as Record<string, unknown>)?.width, "crop_size.width", label),
        };
  if (c.do_center_crop === false) {
    throw new ClipEdgeError("unsupported", `${label}: do_center_crop=false is not supported`);
  }
  const resample = c.resample === undefined ? 3 : num(c.resample, "resample", label);
  if (resample !== 3 && resample !== 2) {
    throw new ClipEdgeError(
      "unsupported",
      `${label}: resample ${resample} is not supported (3 = bicubic, 2 = bilinear)`,
    );
  }
  for (const [name, v] of [
    ["size", shortestEdge],
    ["crop height", cropSize.height],
    ["crop width", cropSize.width],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 4096) {
      throw new ClipEdgeError(
        "invalid_input",
        `${label}: ${name} ${v} must be an integer in 1..4096`,
      );
    }
  }
  return {
    shortestEdge,
    cropSize,
    mean:
      c.image_mean === undefined
        ? OPENAI_CLIP_PREPROCESSOR.mean
        : triple(c.image_mean, "image_mean", label),
    std:
      c.image_std === undefined
        ? OPENAI_CLIP_PREPROCESSOR.std
        : triple(c.image_std, "image_std", label),
    rescaleFactor:
      c.rescale_factor === undefined ? 1 / 255 : num(c.rescale_factor, "rescale_factor", label),
    resample,
  };
}
