/** The vision graph of a bundle over image files, as `encode-image` and `score` run it. */
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { createImagePreprocessor } from "../../node/image/image-preprocessor.ts";
import { openBundleGraphWeb } from "../../node/runtime/bundle-session.ts";
import type { LoadedBundle } from "../../node/runtime/load-bundle.ts";

export interface ImageFileEncoder {
  /** `image_embeds`, or `vision_pooled` for a bundle without a projection. */
  output: "image_embeds" | "vision_pooled";
  /** The output row of one file (OpenAI preprocessing, then the vision graph). */
  encode(file: string): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Opens `bundle`'s vision graph; `command` names the CLI command in errors. */
export async function openImageFileEncoder(
  bundle: LoadedBundle,
  command: string,
): Promise<ImageFileEncoder> {
  const config = bundle.manifest.preprocessor;
  if (!config || !bundle.graph("vision")) {
    throw new ClipEdgeError(
      "not_found",
      `${command}: bundle ${bundle.dir} has no vision graph (prepare with --towers text,vision)`,
    );
  }
  const pre = createImagePreprocessor({ sharp: sharp as never, config });
  const session = await openBundleGraphWeb(bundle, "vision");
  const output = session.outputNames.includes("image_embeds") ? "image_embeds" : "vision_pooled";
  const { height, width } = config.cropSize;
  return {
    output,
    async encode(file) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(file));
      } catch (error) {
        throw new ClipEdgeError(
          "not_found",
          `${command}: cannot read ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const pixels = await pre.preprocess(bytes, { label: file });
      const out = await session.run(
        { pixel_values: session.tensor("float32", pixels, [1, 3, height, width]) },
        [output],
      );
      return out[output].data as Float32Array;
    },
    release: () => session.release(),
  };
}
