/**
 * The bundle the cache-hit scenario serves: a synthetic checkpoint (node/synthetic)
 * with a synthetic tokenizer (./synthetic-vocab.ts), prepared by the real
 * prepare step (text tower only, no quantisation report) and cached under
 * `<cacheDir>/bundles/<name>`. Quick mode: a tiny text tower (CLIP vocab and
 * positions, width 64, 2 layers) in fp32; otherwise CLIP ViT-B/32 text in int8.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import { prepareBundle } from "../../node/prepare/prepare-bundle.ts";
import {
  CLIP_B32_TEXT,
  CLIP_L14_TEXT,
  type SyntheticTextDims,
  writeSyntheticCheckpoint,
} from "../../node/synthetic/synthetic-checkpoint.ts";
import { writeSyntheticVocab } from "./synthetic-vocab.ts";

/** Bump when what a cached bench bundle contains changes. */
const BUNDLE_VERSION = 3;

export interface AppBundleSpec {
  /** R2 / API model name. */
  name: string;
  /** The `model` label of the records. */
  model: string;
  quantization: Quantization;
  /** `prepare --edge`: one stage per layer + head, external data, token table in R2. */
  edge?: boolean;
  text: SyntheticTextDims;
  projectionDim: number;
}

/** The `variant` label of a bundle's records (e.g. int8-edge). */
export function bundleVariant(spec: AppBundleSpec): string {
  return `${spec.quantization}${spec.edge ? "-edge" : ""}`;
}

export const TINY_TEXT_BUNDLE: AppBundleSpec = {
  name: "bench-tiny-text",
  model: "tiny-text (synthetic)",
  quantization: "fp32",
  text: { ...CLIP_B32_TEXT, hiddenSize: 64, intermediateSize: 256, numLayers: 2, numHeads: 4 },
  projectionDim: 64,
};

export const B32_TEXT_BUNDLE: AppBundleSpec = {
  name: "bench-clip-vit-b32-text",
  model: "clip-vit-b32-text",
  quantization: "int8",
  edge: true,
  text: CLIP_B32_TEXT,
  projectionDim: 512,
};

/** CLIP-L text as a deployer would ship it to a 128 MB isolate (`prepare --quant int8 --edge`). */
export const L14_TEXT_BUNDLE: AppBundleSpec = {
  name: "bench-clip-vit-l14-text",
  model: "clip-vit-l14-text",
  quantization: "int8",
  edge: true,
  text: CLIP_L14_TEXT,
  projectionDim: 768,
};

export interface EnsureAppBundleOptions {
  cacheDir: string;
  log: (line: string) => void;
}

/** Prepares the bundle once; returns its folder. */
export async function ensureAppBundle(
  spec: AppBundleSpec,
  options: EnsureAppBundleOptions,
): Promise<string> {
  const dir = join(options.cacheDir, "bundles", `${spec.name}-${bundleVariant(spec)}`);
  const stampPath = join(dir, "bench-bundle.json");
  const stamp = JSON.stringify({ version: BUNDLE_VERSION, spec });
  if (
    existsSync(join(dir, "manifest.json")) &&
    existsSync(stampPath) &&
    readFileSync(stampPath, "utf8") === stamp
  ) {
    return dir;
  }
  options.log(`preparing the ${spec.name} ${spec.quantization} bundle in ${dir}`);
  const tmp = mkdtempSync(join(tmpdir(), "clip-edge-bench-ckpt-"));
  try {
    const ckpt = writeSyntheticCheckpoint(join(tmp, "checkpoint"), {
      text: spec.text,
      projectionDim: spec.projectionDim,
    });
    writeSyntheticVocab(ckpt);
    rmSync(dir, { recursive: true, force: true });
    await prepareBundle({
      from: ckpt,
      out: dir,
      quantization: spec.quantization,
      towers: ["text"],
      skipReport: true,
      // The worker's memory budget sizes loads and batches from the measured costs.
      memoryProfile: true,
      ...(spec.edge
        ? {
            stages: "per-layer" as const,
            externalDataThreshold: 1024,
            tokenEmbedding: "external-int8" as const,
          }
        : {}),
      name: spec.name,
      log: () => {},
    });
    writeFileSync(stampPath, stamp);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The bundles the worker-app scenarios serve: the tiny one in --quick, else B/32, and CLIP-L
 * (as shipped to a 128 MB isolate) when the run covers it.
 */
export function appBundleSpecs(quick: boolean, models: readonly string[]): AppBundleSpec[] {
  if (quick) return [TINY_TEXT_BUNDLE];
  return [B32_TEXT_BUNDLE, ...(models.includes("clip-vit-l14-text") ? [L14_TEXT_BUNDLE] : [])];
}
