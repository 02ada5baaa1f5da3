/**
 * CLIP's pre-tokenizer: `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|
 * [\p{N}]|[^\s\p{L}\p{N}]+` with IGNORECASE, where `\s` is the Python `regex` module's (Unicode
 * White_Space), not JavaScript's.
 */
import { RX_SPACE_CLASS } from "./python-text.ts";

export function createPreTokenizer(): (text: string) => IterableIterator<RegExpMatchArray> {
  const pattern = new RegExp(
    `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${RX_SPACE_CLASS}\\p{L}\\p{N}]+`,
    "giu",
  );
  return (text) => text.matchAll(pattern);
}
