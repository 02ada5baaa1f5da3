import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { parseSafetensors, type SafetensorsEntry } from "../../conditioning/formats/safetensors.ts";
import { type ClipCheckpointConfig, parseClipConfig } from "./clip-config.ts";

export interface CheckpointFile {
  bytes: number;
  sha256: string;
}

export interface Checkpoint {
  dir: string;
  config: ClipCheckpointConfig;
  rawConfig: unknown;
  tensors: Map<string, SafetensorsEntry>;
  /** Source files read (config + weights), with hashes, keyed by file name. */
  files: Record<string, CheckpointFile>;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function readJson(path: string, label: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ClipEdgeError("malformed", `${label}: not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** Lists the safetensors files of a checkpoint folder (single file or sharded index). */
function weightFiles(dir: string): string[] {
  const index = join(dir, "model.safetensors.index.json");
  if (existsSync(index)) {
    const json = readJson(index, index) as { weight_map?: Record<string, string> };
    if (!json.weight_map || typeof json.weight_map !== "object") {
      throw new ClipEdgeError("malformed", `${index}: missing "weight_map"`);
    }
    return [...new Set(Object.values(json.weight_map))].sort();
  }
  if (existsSync(join(dir, "model.safetensors"))) return ["model.safetensors"];
  const others = readdirSync(dir).filter((f) => f.endsWith(".safetensors"));
  if (others.length > 0) return others.sort();
  const pickles = readdirSync(dir).filter((f) => /\.(bin|pt|pth|ckpt)$/.test(f));
  if (pickles.length > 0) {
    throw new ClipEdgeError(
      "unsupported",
      `${dir}: found ${pickles.join(", ")} (PyTorch pickle) but no .safetensors; pickle checkpoints are not loaded (they can execute code). Convert to safetensors first, e.g. in Python: safetensors.torch.save_file(torch.load("${pickles[0]}"), "model.safetensors")`,
    );
  }
  throw new ClipEdgeError(
    "not_found",
    `${dir}: no model.safetensors or model.safetensors.index.json`,
  );
}

/** Reads config.json and all safetensors weights of a Hugging Face checkpoint folder. */
export function readCheckpoint(dir: string): Checkpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ClipEdgeError("not_found", `checkpoint folder ${dir} does not exist`);
  }
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) {
    throw new ClipEdgeError("not_found", `${dir}: config.json is missing`);
  }
  const files: Record<string, CheckpointFile> = {};
  const configBytes = readFileSync(configPath);
  files["config.json"] = { bytes: configBytes.byteLength, sha256: sha256Hex(configBytes) };
  const rawConfig = readJson(configPath, configPath);
  const config = parseClipConfig(rawConfig, configPath);
  const tensors = new Map<string, SafetensorsEntry>();
  for (const file of weightFiles(dir)) {
    const path = join(dir, file);
    if (!existsSync(path)) throw new ClipEdgeError("not_found", `${dir}: shard ${file} is missing`);
    const data = readFileSync(path);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    files[file] = { bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
    for (const [name, entry] of parseSafetensors(bytes, path).tensors) tensors.set(name, entry);
  }
  return { dir, config, rawConfig, tensors, files };
}
