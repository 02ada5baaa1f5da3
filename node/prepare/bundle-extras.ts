import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";
import { OPENAI_CLIP_PREPROCESSOR, parsePreprocessorConfig } from "../image/config.ts";
import type { VisionConfig } from "./clip-config.ts";

/**
 * Copies the checkpoint's preprocessor_config.json into the bundle, or writes
 * OpenAI CLIP defaults at the vision tower's image size; returns the manifest entry.
 */
export function writePreprocessor(
  from: string,
  out: string,
  vision: VisionConfig,
  log: (line: string) => void,
): NonNullable<BundleManifest["preprocessor"]> {
  const src = join(from, "preprocessor_config.json");
  const dst = join(out, "preprocessor_config.json");
  if (existsSync(src)) {
    writeFileSync(dst, readFileSync(src));
    return {
      file: "preprocessor_config.json",
      ...parsePreprocessorConfig(JSON.parse(readFileSync(src, "utf8")), src),
    };
  }
  const size = vision.imageSize;
  const cfg = {
    ...OPENAI_CLIP_PREPROCESSOR,
    shortestEdge: size,
    cropSize: { height: size, width: size },
  };
  writeFileSync(
    dst,
    `${JSON.stringify({ size: { shortest_edge: size }, crop_size: { height: size, width: size }, do_center_crop: true, do_convert_rgb: true, do_normalize: true, do_rescale: true, rescale_factor: cfg.rescaleFactor, image_mean: cfg.mean, image_std: cfg.std, resample: cfg.resample }, null, 2)}\n`,
  );
  log("warning: no preprocessor_config.json in the checkpoint; wrote OpenAI CLIP defaults");
  return { file: "preprocessor_config.json", ...cfg };
}
