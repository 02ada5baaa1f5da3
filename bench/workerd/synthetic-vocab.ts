/**
 * A small synthetic CLIP BPE vocabulary (vocab.json + merges.txt) so bench
 * bundles carry a working tokenizer without the shared fixtures: the 256 byte
 * symbols, the same with `</w>`, one merge per pair of lowercase letters (word
 * inside and word end), then `<|startoftext|>` and `<|endoftext|>`. Ids stay
 * far below CLIP's 49408 rows, so any CLIP-sized token table can embed them.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToUnicode } from "../../conditioning/tokenizer/byte-encoder.ts";

export interface SyntheticVocab {
  vocab: Record<string, number>;
  merges: string[];
}

export function createSyntheticVocab(): SyntheticVocab {
  const symbols = bytesToUnicode();
  const tokens: string[] = [...symbols, ...symbols.map((s) => `${s}</w>`)];
  const merges: string[] = [];
  const letters = "abcdefghijklmnopqrstuvwxyz";
  for (const a of letters) {
    for (const b of letters) {
      merges.push(`${a} ${b}`, `${a} ${b}</w>`);
      tokens.push(`${a}${b}`, `${a}${b}</w>`);
    }
  }
  tokens.push("<|startoftext|>", "<|endoftext|>");
  return { vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges };
}

/** Writes vocab.json and merges.txt into `dir`. */
export function writeSyntheticVocab(dir: string): void {
  const { vocab, merges } = createSyntheticVocab();
  writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
  writeFileSync(join(dir, "merges.txt"), `#version: 0.2\n${merges.join("\n")}\n`);
}
