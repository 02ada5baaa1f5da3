import { ClipEdgeError } from "../../conditioning/errors.ts";
import { loadBundle } from "../../node/runtime/load-bundle.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";
import { openImageFileEncoder } from "./image-files.ts";

const USAGE = `Usage: clip-edge encode-image --model BUNDLE_DIR FILE...

Writes one JSON line {"file", "image_embeds"} per image: OpenAI CLIP preprocessing per the
bundle's preprocessor_config.json, then the vision graph in onnxruntime-web (WASM).
`;

export const command: Command = {
  name: "encode-image",
  summary: "Encode image files with a bundle's vision graph (onnxruntime-web)",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      "encode-image",
      argv,
      { model: { type: "string" } },
      true,
    );
    const bundle = loadBundle(requireOption("encode-image", "model", values.model));
    if (positionals.length === 0)
      throw new ClipEdgeError("usage", "encode-image: no image files given");
    const images = await openImageFileEncoder(bundle, "encode-image");
    try {
      for (const file of positionals) {
        const row = await images.encode(file);
        io.stdout.write(`${JSON.stringify({ file, [images.output]: Array.from(row) })}\n`);
      }
    } finally {
      await images.release();
    }
    return 0;
  },
};
