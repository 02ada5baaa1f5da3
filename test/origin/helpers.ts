import { readFileSync } from "node:fs";
import sharp from "sharp";
import { parseSafetensors, tensorToFloat32 } from "../../conditioning/formats/safetensors.ts";
import { parsePreprocessorConfig } from "../../node/image/config.ts";
import type { SharpFactory } from "../../node/image/decode.ts";
import { fixturePath } from "../helpers/fixtures.ts";

/** Fixture photos in the order of pixel_values.safetensors (fixtures README). */
export const FIXTURE_IMAGES = [
  "astronaut.png",
  "coffee.png",
  "chelsea.png",
  "rocket.jpg",
  "camera.png",
];

export const sharpFactory: SharpFactory = (input, options) => sharp(input, options);

export function readFixtureImage(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath("images", name)));
}

export function tinyOpenaiDir(): string {
  return fixturePath("models", "tiny-openai");
}

export function tinyOpenaiPreprocessor() {
  return parsePreprocessorConfig(
    JSON.parse(
      readFileSync(fixturePath("models", "tiny-openai", "preprocessor_config.json"), "utf8"),
    ),
  );
}

export function readTensor(file: string, name: string): { data: Float32Array; shape: number[] } {
  const parsed = parseSafetensors(new Uint8Array(readFileSync(file)), file);
  const entry = parsed.tensors.get(name);
  if (!entry) throw new Error(`${file}: no tensor ${name}`);
  return { data: tensorToFloat32(entry, name), shape: entry.shape };
}

export function goldenPixelValues() {
  return readTensor(fixturePath("images", "pixel_values.safetensors"), "pixel_values");
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, bOffset = 0): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[bOffset + i]));
  return max;
}
