/**
 * Loads a Hugging Face tokenizer folder through a caller-supplied `readFile` (Node fs, an R2
 * bucket, fetch...): `tokenizer.json`, or `vocab.json` + `merges.txt`, plus the optional
 * `tokenizer_config.json` / `special_tokens_map.json`. `readFile` returns null (or throws a
 * ClipEdgeError with code "not_found") for a missing file.
 */
import { ClipEdgeError } from "../errors.ts";
import type { FileContent, TokenizerConfigFiles, TokenizerFiles } from "./files.ts";
import { type CreateTokenizerOptions, createTokenizer, type Tokenizer } from "./tokenizer.ts";

export type ReadFile = (name: string) => Promise<FileContent | null | undefined>;

export interface LoadedTokenizerFiles extends TokenizerConfigFiles {
  files: TokenizerFiles;
}

async function readOptional(readFile: ReadFile, name: string): Promise<FileContent | undefined> {
  try {
    return (await readFile(name)) ?? undefined;
  } catch (error) {
    if (error instanceof ClipEdgeError && error.code === "not_found") return undefined;
    throw error;
  }
}

/** Reads the files of a tokenizer folder; prefers vocab.json + merges.txt when both exist. */
export async function loadTokenizerFiles(
  readFile: ReadFile,
  where = "tokenizer folder",
): Promise<LoadedTokenizerFiles> {
  const [vocab, merges, tokenizerJson, tokenizerConfig, specialTokensMap] = await Promise.all(
    [
      "vocab.json",
      "merges.txt",
      "tokenizer.json",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ].map((name) => readOptional(readFile, name)),
  );
  let files: TokenizerFiles;
  if (vocab !== undefined && merges !== undefined) files = { vocab, merges };
  else if (tokenizerJson !== undefined) files = { tokenizerJson };
  else {
    throw new ClipEdgeError(
      "not_found",
      `${where}: needs vocab.json + merges.txt or tokenizer.json (found ${
        [vocab && "vocab.json", merges && "merges.txt"].filter(Boolean).join(", ") || "neither"
      })`,
    );
  }
  return { files, tokenizerConfig, specialTokensMap };
}

export async function loadTokenizer(
  readFile: ReadFile,
  options: Omit<CreateTokenizerOptions, keyof TokenizerConfigFiles> & { where?: string } = {},
): Promise<Tokenizer> {
  const loaded = await loadTokenizerFiles(readFile, options.where);
  return createTokenizer(loaded.files, {
    ...options,
    tokenizerConfig: loaded.tokenizerConfig,
    specialTokensMap: loaded.specialTokensMap,
  });
}
