import { readFileSync } from "node:fs";
import {
  parseSafetensors,
  serializeSafetensors,
  type TensorToWrite,
} from "../../../conditioning/formats/safetensors.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

/** The files of `models/tiny-openai` a hub repo would hold (no goldens, no README). */
export const TINY_FILES = [
  "config.json",
  "model.safetensors",
  "vocab.json",
  "merges.txt",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "preprocessor_config.json",
] as const;

export function tinyOpenaiFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const name of TINY_FILES) {
    files[name] = new Uint8Array(readFileSync(fixturePath("models", "tiny-openai", name)));
  }
  return files;
}

/** Splits model.safetensors into two shards plus `model.safetensors.index.json`. */
export function shardModel(model: Uint8Array): Record<string, Uint8Array> {
  const parsed = parseSafetensors(model, "tiny-openai/model.safetensors");
  const names = [...parsed.tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const shardFiles = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const out: Record<string, Uint8Array> = {};
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  shardFiles.forEach((file, shard) => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const name of names.slice(shard * half, (shard + 1) * half)) {
      const entry = parsed.tensors.get(name)!;
      tensors[name] = { dtype: entry.dtype, shape: entry.shape, data: entry.bytes.slice() };
      weightMap[name] = file;
      totalSize += entry.bytes.byteLength;
    }
    out[file] = serializeSafetensors(tensors, { format: "pt" });
  });
  const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
  out["model.safetensors.index.json"] = new TextEncoder().encode(
    `${JSON.stringify(index, null, 2)}\n`,
  );
  return out;
}

/** Prefixes every path with `folder/`. */
export function inFolder(folder: string, files: Record<string, Uint8Array>) {
  return Object.fromEntries(Object.entries(files).map(([path, b]) => [`${folder}/${path}`, b]));
}

/** The files of tiny-openai without the weights, split into model part and tokenizer part. */
export function splitTokenizer(files: Record<string, Uint8Array>) {
  const tokenizerNames = [
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
  ];
  const model: Record<string, Uint8Array> = {};
  const tokenizer: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(files)) {
    (tokenizerNames.includes(name) ? tokenizer : model)[name] = bytes;
  }
  return { model, tokenizer };
}
