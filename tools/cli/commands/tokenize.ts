import { ClipEdgeError } from "../../../conditioning/errors.ts";
import type { Command } from "../command.ts";

export const command: Command = {
  name: "tokenize",
  summary: "Tokenize JSON Lines {text} from stdin into CLIP BPE ids",
  usage: "Usage: clip-edge tokenize --tokenizer DIR [--mode openai|hf]",
  async run() {
    throw new ClipEdgeError("unsupported", "tokenize: not built yet");
  },
};
