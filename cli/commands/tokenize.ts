import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { loadTokenizer } from "../../conditioning/tokenizer/load-files.ts";
import type { NormalizationMode } from "../../conditioning/tokenizer/normalize.ts";
import {
  type Command,
  parseCommandArgs,
  readJsonLines,
  requireOption,
  textField,
} from "../command.ts";

const USAGE = `Usage: clip-edge tokenize --tokenizer DIR [--mode openai|hf]

Reads JSON Lines {"text": "..."} from stdin and writes one line {"ids": [...]} per input:
the CLIP BPE ids without SOT/EOT/padding (exactly OpenAI's SimpleTokenizer.encode in openai mode).

Options:
  --tokenizer DIR   Hugging Face tokenizer folder: vocab.json + merges.txt, or tokenizer.json
                    (tokenizer_config.json / special_tokens_map.json are read when present)
  --mode MODE       openai (default): ftfy + HTML unescape + whitespace clean + lowercase
                    hf: NFC + whitespace collapse + lowercase (the HF fast tokenizer)
  -h, --help        Show this help
`;

/** Node readFile for a folder: null for a missing file. */
export function folderReader(dir: string) {
  return async (name: string): Promise<Uint8Array | null> => {
    try {
      return await readFile(join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new ClipEdgeError(
        "invalid_input",
        `tokenize: cannot read ${join(dir, name)}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  };
}

export const command: Command = {
  name: "tokenize",
  summary: "Tokenize JSON Lines {text} from stdin into CLIP BPE ids",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("tokenize", argv, {
      tokenizer: { type: "string" },
      mode: { type: "string", default: "openai" },
    });
    const dir = requireOption("tokenize", "tokenizer", values.tokenizer);
    const mode = values.mode;
    if (mode !== "openai" && mode !== "hf") {
      throw new ClipEdgeError(
        "usage",
        `tokenize: --mode must be openai or hf, got ${JSON.stringify(mode)}`,
      );
    }
    const tokenizer = await loadTokenizer(folderReader(dir), { where: dir }).catch((error) => {
      if (error instanceof ClipEdgeError && error.code === "not_found") {
        throw new ClipEdgeError("usage", `tokenize: --tokenizer ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    });
    for await (const { line, value } of readJsonLines(io.stdin)) {
      const ids = tokenizer.encode(textField(value, line), { mode: mode as NormalizationMode });
      io.stdout.write(`{"ids":[${ids.join(",")}]}\n`);
    }
    return 0;
  },
};
