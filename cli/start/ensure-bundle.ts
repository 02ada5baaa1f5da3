/**
 * `--model` -> a prepared bundle folder: a bundle is used as is; a Hugging Face
 * folder or hub id is prepared once into `<cache>/bundles/<name>-<quant>` (text
 * tower only: the worker serves text) and reused while the source is unchanged.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import {
  type ModelSource,
  type ResolveModelOptions,
  resolveModelSource,
} from "../../node/hub/resolve-model.ts";
import { prepareBundle } from "../../node/prepare/prepare-bundle.ts";

export interface EnsureBundleOptions {
  spec: string;
  quant: Quantization;
  resolve: ResolveModelOptions;
  log: (line: string) => void;
  /** The default model: failures explain how to pick another one. */
  isDefault: boolean;
  /** Overrides the model name derived from the source. */
  name?: string;
}

export interface EnsuredBundle {
  dir: string;
  /** R2 / API model name. */
  name: string;
  prepared: boolean;
  /** The folder the bundle came from (a bundle, or the Hugging Face checkpoint folder). */
  sourceDir: string;
}

const STAMP = "clip-edge-start.json";

export function modelNameFor(source: ModelSource): string {
  const raw =
    source.kind === "hub"
      ? source.subfolder
        ? `${source.repo}-${source.subfolder}`
        : source.repo.split("/")[1]
      : basename(source.dir);
  return (
    raw
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "")
      .slice(0, 128) || "model"
  );
}

function sourceStamp(dir: string, quant: Quantization): string {
  const config = join(dir, "config.json");
  const weights = ["model.safetensors", "model.safetensors.index.json"]
    .map((f) => join(dir, f))
    .find(existsSync);
  const stat = (p?: string) => (p ? `${statSync(p).size}:${statSync(p).mtimeMs}` : "-");
  // "guard": int8 bundles prepared before npm start ran the accuracy guard are prepared again.
  return JSON.stringify({ dir, quant, config: stat(config), weights: stat(weights), guard: 1 });
}

export async function ensureBundle(options: EnsureBundleOptions): Promise<EnsuredBundle> {
  let source: ModelSource;
  try {
    source = await resolveModelSource(options.spec, options.resolve);
  } catch (cause) {
    if (!options.isDefault) throw cause;
    throw new ClipEdgeError(
      "unavailable",
      `the default model ${options.spec} is not prepared or cached here and could not be downloaded (${(cause as Error).message}).\n` +
        "Offline? Start with a local model instead:\n" +
        "  npm start -- --model <prepared bundle folder | Hugging Face CLIP folder | hub id>\n" +
        "e.g. npm start -- --model ../shared/fixtures/models/tiny-openai",
      { cause },
    );
  }
  const name = options.name ?? modelNameFor(source);
  if (source.kind === "bundle") {
    return { dir: source.dir, name, prepared: false, sourceDir: source.dir };
  }

  const out = join(options.resolve.cacheDir, "bundles", `${name}-${options.quant}`);
  const stamp = sourceStamp(source.dir, options.quant);
  const stampPath = join(out, STAMP);
  if (
    existsSync(join(out, "manifest.json")) &&
    existsSync(stampPath) &&
    readFileSync(stampPath, "utf8") === stamp
  ) {
    options.log(`using the prepared bundle ${out}`);
    return { dir: out, name, prepared: false, sourceDir: source.dir };
  }
  options.log(`preparing ${options.spec} (${options.quant}, text tower) into ${out} ...`);
  await prepareBundle({
    from: source.dir,
    out,
    quantization: options.quant,
    towers: ["text"],
    skipReport: options.quant === "fp32",
    // As `clip-edge prepare --quant int8`: the accuracy guard with its defaults (docs/prepare.md).
    guard: options.quant === "int8" ? {} : false,
    name,
    repo: source.kind === "hub" ? source.repo : undefined,
    revision: source.kind === "hub" ? source.revision : undefined,
    log: options.log,
  });
  writeFileSync(stampPath, stamp);
  return { dir: out, name, prepared: true, sourceDir: source.dir };
}
