import { readFile } from "node:fs/promises";
import { ClipEdgeError } from "../../conditioning/errors.ts";

const SHARD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.safetensors$/;

/** Parses `model.safetensors.index.json` text: the distinct shard files of its weight_map, in order. */
export function parseShardIndex(text: string, label: string): string[] {
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (error) {
    throw new ClipEdgeError("malformed", `${label}: not valid JSON`, { cause: error });
  }
  const map = (index as { weight_map?: unknown })?.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map)) {
    throw new ClipEdgeError("malformed", `${label}: missing the "weight_map" object`);
  }
  const shards: string[] = [];
  for (const [tensor, file] of Object.entries(map)) {
    if (typeof file !== "string" || !SHARD_NAME.test(file) || file.includes("..")) {
      throw new ClipEdgeError(
        "malformed",
        `${label}: tensor '${tensor}' maps to '${String(file)}', not a .safetensors file name in the same folder`,
      );
    }
    if (!shards.includes(file)) shards.push(file);
  }
  if (shards.length === 0) throw new ClipEdgeError("malformed", `${label}: "weight_map" is empty`);
  return shards;
}

export async function shardNames(indexFile: string, label: string): Promise<string[]> {
  return parseShardIndex(await readFile(indexFile, "utf8"), label);
}
