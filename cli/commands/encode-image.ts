import { readFileSync } from "node:fs";
import sharp from "sharp";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { createImagePreprocessor } from "../../node/image/image-preprocessor.ts";
import { openBundleGraphWeb } from "../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../node/runtime/load-bundle.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";

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
    const config = bundle.manifest.preprocessor;
    if (!config || !bundle.graph("vision")) {
      throw new ClipEdgeError(
        "not_found",
        `encode-image: bundle ${bundle.dir} has no vision graph`,
      );
    }
    const pre = createImagePreprocessor({ sharp: sharp as never, config });
    const session = await openBundleGraphWeb(bundle, "vision");
    const output = session.outputNames.includes("image_embeds") ? "image_embeds" : "vision_pooled";
    try {
      for (const file of positionals) {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(readFileSync(file));
        } catch (error) {
          throw new ClipEdgeError(
            "not_found",
            `encode-image: cannot read ${file}: ${(error as Error).message}`,
            { cause: error },
          );
        }
        const pixels = await pre.preprocess(bytes, { label: file });
        const { height, width } = config.cropSize;
        const out = await session.run(
          { pixel_values: session.tensor("float32", pixels, [1, 3, height, width]) },
          [output],
        );
        io.stdout.write(
          `${JSON.stringify({ file, [output]: Array.from(out[output].data as Float32Array) })}\n`,
        );
      }
    } finally {
      await session.release();
    }
    return 0;
  },
};
