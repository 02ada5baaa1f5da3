/**
 * Wires the origin from parsed options: model (bundle or HF folder) -> sessions on the
 * chosen provider -> preprocessing -> Hono app -> listener. Used by main.ts and by tests
 * that need a real origin process-in-process.
 */
import sharp from "sharp";
import { createImagePreprocessor } from "../node/image/image-preprocessor.ts";
import { createTransformPool, type TransformPool } from "../node/image/transform-pool.ts";
import { loadTokenizerFromDir } from "../node/prepare/bundle-tokenizer.ts";
import { prepareBundle } from "../node/prepare/prepare-bundle.ts";
import { createOrtNodeSession } from "../node/runtime/ort-node-session.ts";
import { createVisionEncoder } from "../node/runtime/vision-encoder.ts";
import type { OriginCliOptions } from "./cli-options.ts";
import { loadOriginModel, type OriginModel } from "./model/load-model.ts";
import { createOriginApp, type OriginApp } from "./server/app.ts";
import { createOriginTextEmbedder } from "./server/origin-text-embedder.ts";
import { type RunningOrigin, serveOrigin } from "./server/serve.ts";
import { createTextGraphRunner } from "./server/text-graph-run.ts";

export interface StartedOrigin extends RunningOrigin {
  model: OriginModel;
  origin: OriginApp;
}

export function createOriginFromModel(
  model: OriginModel,
  options: Pick<
    OriginCliOptions,
    | "secret"
    | "maxBatch"
    | "maxWaitMs"
    | "maxQueue"
    | "maxImages"
    | "maxImageBytes"
    | "maxPixels"
    | "exifOrientation"
  >,
  log: (line: string) => void,
  transform?: TransformPool,
): OriginApp {
  const vision = model.vision
    ? {
        encoder: createVisionEncoder({
          session: model.vision.session,
          tensor: model.vision.session.tensor,
          imageShape: model.vision.imageShape,
          label: `${model.name} vision`,
        }),
        preprocessor: createImagePreprocessor({
          sharp: (input, opts) => sharp(input, opts),
          config: model.vision.preprocessor,
          decode: {
            maxBytes: options.maxImageBytes,
            maxPixels: options.maxPixels,
            applyExifOrientation: options.exifOrientation,
          },
          ...(transform ? { transform: transform.transform } : {}),
        }),
      }
    : undefined;
  const text = model.text
    ? createOriginTextEmbedder({
        session: model.text.session,
        tensor: model.text.session.tensor,
        tokenizer: model.text.tokenizer,
        padId: model.text.padId,
        maxLength: model.text.maxLength,
        label: `${model.name} text`,
      })
    : undefined;
  const textGraph = model.text
    ? createTextGraphRunner({
        session: model.text.session,
        tensor: model.text.session.tensor,
        maxBatch: 256,
        maxSequence: model.text.maxLength,
        vocabSize: model.manifest.architecture.text?.vocabSize ?? 49408,
      })
    : undefined;
  return createOriginApp({
    secret: options.secret,
    model: model.name,
    vision,
    text,
    textGraph,
    provider: model.provider,
    batching: {
      maxBatch: options.maxBatch,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
    },
    limits: {
      maxImagesPerRequest: options.maxImages,
      // base64 JSON is 4/3 of the bytes; multipart adds a little per part.
      maxRequestBytes: Math.ceil(options.maxImages * options.maxImageBytes * 1.4) + 1024 * 1024,
    },
    log,
  });
}

export async function startOrigin(
  options: OriginCliOptions,
  log: (line: string) => void = (line) => console.error(line),
): Promise<StartedOrigin> {
  const model = await loadOriginModel({
    model: options.model,
    provider: options.provider,
    deviceId: options.deviceId,
    intraOpNumThreads: options.threads,
    cacheDir: options.cacheDir,
    createSession: createOrtNodeSession,
    prepare: ({ from, out, log: prepareLog }) =>
      prepareBundle({ from, out, quantization: "fp32", skipReport: true, log: prepareLog }),
    loadTokenizer: loadTokenizerFromDir,
    log,
  });
  const pool =
    model.vision && options.preprocessThreads > 0
      ? createTransformPool({ size: options.preprocessThreads })
      : undefined;
  const origin = createOriginFromModel(model, options, log, pool);
  const running = await serveOrigin(origin, { port: options.port, hostname: options.host });
  log(
    `origin: serving ${model.name} (${[model.vision && "vision", model.text && "text"].filter(Boolean).join(" + ")}, ${model.provider}) on ${options.host}:${running.port}`,
  );
  return {
    ...running,
    model,
    origin,
    async close() {
      await running.close();
      await pool?.close();
      await model.release();
    },
  };
}
