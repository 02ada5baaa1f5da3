/**
 * Image inputs of the routes (`{ b64 }` bytes, a `{ url }` the worker fetches itself, or the
 * `{ file_id }` of an image uploaded with POST /v1/files, read from R2) embedded by the origin
 * in one request. Used by /v1/score and /v1/embeddings (online and in batches).
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { decodeBase64 } from "../../conditioning/formats/base64.ts";
import type { AppDeps } from "../app-deps.ts";
import { checkFileId, fileKey, requireBatch } from "../batch/batch-store.ts";
import { fetchImage } from "./fetch-image.ts";
import type { OriginImage } from "./origin-client.ts";

export type ImageInput = { url: string } | { b64: string } | { file_id: string };

/**
 * One `image_embeds` vector per input, in order (OpenAI `encode_image`; L2-normalised when
 * `normalize`). `label(i)` names the input in error messages (e.g. `images[2]`).
 */
export async function embedImageInputs(
  inputs: readonly ImageInput[],
  deps: AppDeps,
  options: { normalize: boolean; label: (index: number) => string },
): Promise<number[][]> {
  if (inputs.length === 0) return [];
  const origin = deps.origin();
  if (!origin) {
    throw new ClipEdgeError(
      "origin_unavailable",
      `${options.label(0)} needs the image origin, and none is configured (ORIGIN_URL / ORIGIN_SECRET)`,
    );
  }
  const limits = deps.limits();
  const images = await Promise.all(
    inputs.map(async (input, i): Promise<OriginImage> => {
      if ("b64" in input) {
        const bytes = decodeImageBase64(input.b64, options.label(i));
        if (bytes.byteLength > limits.maxImageBytes) {
          throw new ClipEdgeError(
            "too_large",
            `${options.label(i)}.b64 decodes to ${bytes.byteLength} bytes, over the limit of ${limits.maxImageBytes} bytes per image (MAX_IMAGE_BYTES)`,
          );
        }
        return { bytes };
      }
      if ("file_id" in input)
        return { bytes: await readImageFile(input.file_id, deps, options.label(i)) };
      const fetched = await fetchImage(input.url, {
        fetch: (request, init) => fetch(request, init),
        maxBytes: limits.maxImageBytes,
        maxRedirects: 3,
        timeoutMs: limits.originTimeoutMs,
        allowPrivateHosts: limits.allowPrivateImageHosts,
      });
      return { bytes: fetched.bytes, contentType: fetched.contentType };
    }),
  );
  const response = await origin.embedImages(images, { normalize: options.normalize });
  const out: (number[] | undefined)[] = new Array(inputs.length);
  for (const item of response.data) out[item.index] = item.image_embeds;
  return out.map((vector, i) => {
    if (!vector) {
      throw new ClipEdgeError(
        "origin_unavailable",
        `the origin returned no embedding for ${options.label(i)}`,
      );
    }
    return vector;
  });
}

/** Plain base64 or a `data:image/...;base64,` URL. */
function decodeImageBase64(b64: string, label: string): Uint8Array {
  const payload = b64.startsWith("data:") ? b64.slice(b64.indexOf(",") + 1) : b64;
  try {
    return decodeBase64(payload);
  } catch (cause) {
    throw new ClipEdgeError("invalid_request", `${label}.b64 is not valid base64`, { cause });
  }
}

/** An uploaded image's bytes (purpose vision), at most MAX_IMAGE_BYTES. */
async function readImageFile(fileId: string, deps: AppDeps, label: string): Promise<Uint8Array> {
  const { bucket } = requireBatch(deps.batch?.());
  checkFileId(fileId);
  const key = fileKey(fileId);
  const head = await bucket.head(key);
  if (!head)
    throw new ClipEdgeError("not_found", `${label}.file_id: no file ${JSON.stringify(fileId)}`);
  const limit = deps.limits().maxImageBytes;
  if (head.size > limit) {
    throw new ClipEdgeError(
      "too_large",
      `${label}.file_id ${fileId} has ${head.size} bytes, over the limit of ${limit} bytes per image (MAX_IMAGE_BYTES)`,
    );
  }
  const object = await bucket.get(key);
  if (!object)
    throw new ClipEdgeError("not_found", `${label}.file_id: no file ${JSON.stringify(fileId)}`);
  return new Uint8Array(await new Response(object.body).arrayBuffer());
}
