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
  parse: {
    summary: "Parse prompt weighting (A1111, ComfyUI, compel) from JSON Lines {text}",
    load: () => import("./parse.ts"),
  },
  pull: {
    summary: "Download a Hugging Face CLIP checkpoint (safetensors + tokenizer) into a folder",
    load: () => import("./pull.ts"),
  },
  prepare: {
    summary: "Hugging Face CLIP checkpoint -> ONNX bundle (fp32, int8, q4)",
    load: () => import("./prepare.ts"),
  },
  verify: {
    summary: "Recompute a bundle's quantisation report against the checkpoint",
    load: () => import("./verify.ts"),
  },
  encode: {
    summary: "Encode JSON Lines {text} from stdin with a bundle (onnxruntime-web)",
    load: () => import("./encode.ts"),
  },
  "encode-image": {
    summary: "Encode image files with a bundle's vision graph (onnxruntime-web)",
    load: () => import("./encode-image.ts"),
  },
  condition: {
    summary: "Prompts -> diffusers conditioning tensors (safetensors, npy, json, raw)",
    load: () => import("./condition.ts"),
  },
  score: {
    summary: "CLIP score / ranking / zero-shot of images against prompts",
    load: () => import("./score.ts"),
  },
  eval: {
    summary: "CLIP score of a folder of generated images against their prompts, with a report",
    load: () => import("./eval.ts"),
  },
};
