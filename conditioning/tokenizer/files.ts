/**
 * Parsing of Hugging Face tokenizer files from strings, bytes or parsed JSON (no filesystem):
 * `vocab.json` + `merges.txt`, or `tokenizer.json`; optional `tokenizer_config.json` and
 * `special_tokens_map.json` for the special tokens and the model's maximum length.
 */
import { ClipEdgeError } from "../errors.ts";

export type FileContent = string | Uint8Array;
export type JsonContent = FileContent | Record<string, unknown>;

export type TokenizerFiles =
  | { vocab: JsonContent; merges: FileContent; tokenizerJson?: undefined }
  | { tokenizerJson: JsonContent; vocab?: undefined; merges?: undefined };

export interface TokenizerConfigFiles {
  tokenizerConfig?: JsonContent;
  specialTokensMap?: JsonContent;
}

export interface ParsedModel {
  vocab: Map<string, number>;
  merges: Array<[string, string]>;
  endOfWord: string;
  /** Special tokens from tokenizer.json `added_tokens` (content -> id). */
  addedTokens: Map<string, number>;
  /** Pad token named by tokenizer.json `padding`, if any. */
  padToken?: string;
  maxLength?: number;
}

export interface SpecialTokenNames {
  bos?: string;
  eos?: string;
  pad?: string;
  unk?: string;
  maxLength?: number;
}

const decoder = new TextDecoder();

function text(content: FileContent): string {
  return typeof content === "string" ? content : decoder.decode(content);
}

function json(content: JsonContent, name: string): Record<string, unknown> {
  if (typeof content === "object" && !(content instanceof Uint8Array)) return content;
  try {
    const value = JSON.parse(text(content));
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch (error) {
    throw new ClipEdgeError("malformed", `${name}: not valid JSON`, { cause: error });
  }
  throw new ClipEdgeError("malformed", `${name}: expected a JSON object`);
}

function vocabMap(value: unknown, name: string): Map<string, number> {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new ClipEdgeError("malformed", `${name}: expected an object {token: id}`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(value)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new ClipEdgeError(
        "malformed",
        `${name}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}`,
      );
    }
    vocab.set(token, id as number);
  }
  if (vocab.size === 0) throw new ClipEdgeError("malformed", `${name}: empty vocabulary`);
  return vocab;
}

function mergePair(line: string, index: number, name: string): [string, string] {
  const parts = line.split(" ");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new ClipEdgeError(
      "malformed",
      `${name} line ${index + 1}: expected "left right", got ${JSON.stringify(line.slice(0, 80))}`,
    );
  }
  return [parts[0], parts[1]];
}

/**
 * merges.txt as transformers reads it (`text.strip().split("\n")[1:]`): the first line is the
 * `#version` header; every following non-empty line is one merge, rank = line index - 1.
 */
export function parseMerges(content: FileContent, name = "merges.txt"): Array<[string, string]> {
  const source = text(content).trim();
  const merges: Array<[string, string]> = [];
  let start = 0;
  let index = 0;
  while (start <= source.length) {
    let end = source.indexOf("\n", start);
    if (end < 0) end = source.length;
    let line = source.slice(start, end);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (!(index === 0 && line.startsWith("#version")) && line.length > 0) {
      const space = line.indexOf(" ");
      if (space <= 0 || space === line.length - 1 || line.indexOf(" ", space + 1) >= 0) {
        mergePair(line, index, name); // throws with the line number
      }
      merges.push([line.slice(0, space), line.slice(space + 1)]);
    }
    index++;
    start = end + 1;
  }
  return merges;
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (
    value &&
    typeof value === "object" &&
    typeof (value as { content?: unknown }).content === "string"
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}

export function parseModelFiles(files: TokenizerFiles): ParsedModel {
  if (files.tokenizerJson !== undefined) return parseTokenizerJson(files.tokenizerJson);
  if (files.vocab === undefined || files.merges === undefined) {
    throw new ClipEdgeError(
      "invalid_input",
      "tokenizer files: need vocab.json + merges.txt or tokenizer.json",
    );
  }
  return {
    vocab: vocabMap(json(files.vocab, "vocab.json"), "vocab.json"),
    merges: parseMerges(files.merges),
    endOfWord: "</w>",
    addedTokens: new Map(),
  };
}

function parseTokenizerJson(content: JsonContent): ParsedModel {
  const root = json(content, "tokenizer.json");
  const model = root.model as Record<string, unknown> | undefined;
  if (!model || typeof model !== "object") {
    throw new ClipEdgeError("malformed", 'tokenizer.json: missing "model"');
  }
  if (model.type !== undefined && model.type !== "BPE") {
    throw new ClipEdgeError(
      "unsupported",
      `tokenizer.json: model type ${JSON.stringify(model.type)} is not BPE`,
    );
  }
  const rawMerges = model.merges;
  if (!Array.isArray(rawMerges))
    throw new ClipEdgeError("malformed", "tokenizer.json: model.merges is not a list");
  const merges = rawMerges.map((entry, i): [string, string] => {
    if (typeof entry === "string") return mergePair(entry, i, "tokenizer.json model.merges");
    if (
      Array.isArray(entry) &&
      entry.length === 2 &&
      typeof entry[0] === "string" &&
      typeof entry[1] === "string"
    ) {
      return [entry[0], entry[1]];
    }
    throw new ClipEdgeError(
      "malformed",
      `tokenizer.json model.merges[${i}]: expected "a b" or ["a", "b"]`,
    );
  });
  const addedTokens = new Map<string, number>();
  if (Array.isArray(root.added_tokens)) {
    for (const token of root.added_tokens as Array<{ id?: unknown; content?: unknown }>) {
      if (typeof token?.content === "string" && Number.isInteger(token.id))
        addedTokens.set(token.content, token.id as number);
    }
  }
  const padding = root.padding as { pad_token?: unknown } | null | undefined;
  const truncation = root.truncation as { max_length?: unknown } | null | undefined;
  const suffix = model.end_of_word_suffix;
  return {
    vocab: vocabMap(model.vocab, "tokenizer.json model.vocab"),
    merges,
    endOfWord: typeof suffix === "string" && suffix.length > 0 ? suffix : "</w>",
    addedTokens,
    padToken: typeof padding?.pad_token === "string" ? padding.pad_token : undefined,
    maxLength: Number.isInteger(truncation?.max_length)
      ? (truncation?.max_length as number)
      : undefined,
  };
}

/** Special token names and max length from tokenizer_config.json / special_tokens_map.json. */
export function parseSpecialTokens(files: TokenizerConfigFiles = {}): SpecialTokenNames {
  const out: SpecialTokenNames = {};
  for (const [content, name] of [
    [files.specialTokensMap, "special_tokens_map.json"],
    [files.tokenizerConfig, "tokenizer_config.json"],
  ] as const) {
    if (content === undefined) continue;
    const config = json(content, name);
    out.bos = tokenContent(config.bos_token) ?? out.bos;
    out.eos = tokenContent(config.eos_token) ?? out.eos;
    out.pad = tokenContent(config.pad_token) ?? out.pad;
    out.unk = tokenContent(config.unk_token) ?? out.unk;
    const max = config.model_max_length;
    if (typeof max === "number" && Number.isInteger(max) && max > 2 && max <= 1_000_000)
      out.maxLength = max;
  }
  return out;
}
