import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { loadTokenizer, type Tokenizer } from "../../conditioning/tokenizer/index.ts";

/** The tokenizer files a bundle carries (pull fetches them, prepare copies them), when present. */
export const TOKENIZER_FILES = [
  "vocab.json",
  "merges.txt",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
] as const;

/**
 * Finds the tokenizer folder of a checkpoint: the folder itself, or for
 * diffusers repos the sibling `tokenizer/` of `text_encoder/` (`tokenizer_2/`
 * of `text_encoder_2/`).
 */
export function findTokenizerDir(checkpointDir: string): string | undefined {
  const has = (dir: string) =>
    (existsSync(join(dir, "vocab.json")) && existsSync(join(dir, "merges.txt"))) ||
    existsSync(join(dir, "tokenizer.json"));
  if (has(checkpointDir)) return checkpointDir;
  const match = /^text_encoder(_\d+)?$/.exec(basename(checkpointDir));
  if (match) {
    const sibling = join(dirname(checkpointDir), `tokenizer${match[1] ?? ""}`);
    if (has(sibling)) return sibling;
  }
  return undefined;
}

/** Copies the tokenizer files present in `from` into `out`; returns their names. */
export function copyTokenizerFiles(from: string, out: string): string[] {
  const copied: string[] = [];
  for (const name of TOKENIZER_FILES) {
    if (existsSync(join(from, name))) {
      writeFileSync(join(out, name), readFileSync(join(from, name)));
      copied.push(name);
    }
  }
  return copied;
}

export function loadTokenizerFromDir(dir: string): Promise<Tokenizer> {
  return loadTokenizer(
    async (name) => {
      const path = join(dir, name);
      return existsSync(path) ? new Uint8Array(readFileSync(path)) : null;
    },
    { where: dir },
  );
}
