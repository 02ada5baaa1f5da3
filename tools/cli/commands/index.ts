import type { Command } from "../command.ts";

interface Entry {
  summary: string;
  load(): Promise<{ command: Command }>;
}

/** Command registry: loaded lazily so `clip-edge tokenize` never pays for onnxruntime. */
export const commands: Record<string, Entry> = {
  tokenize: {
    summary: "Tokenize JSON Lines {text} from stdin into CLIP BPE ids",
    load: () => import("./tokenize.ts"),
  },
  pull: {
    summary: "Download a Hugging Face CLIP checkpoint (safetensors + tokenizer) into a folder",
    load: () => import("./pull.ts"),
  },
};
