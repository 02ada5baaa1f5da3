/**
 * Reads the images of a `POST /v1/image-embeddings` request:
 * - `multipart/form-data`: every file part, in order (`normalize` as a text field);
 * - `application/octet-stream` or `image/*`: the body is one image (`?normalize=true`);
 * - `application/json`: `{ "images": [ "<base64>" | "data:image/...;base64,..." | { "b64": "..." } ],
 *   "normalize": false }` (or `"image"` for a single one).
 * The body size is capped while it is read (413), never buffered beyond the cap.
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { decodeBase64 } from "../../conditioning/formats/base64.ts";
import { readCappedStream } from "../../conditioning/io/read-capped-stream.ts";

export interface ImageRequest {
  images: Uint8Array[];
  normalize: boolean;
}

export interface RequestLimits {
  maxRequestBytes: number;
  maxImagesPerRequest: number;
}

/** Reads a request body, refusing (413) beyond `maxBytes` declared or streamed. */
export async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    throw new ClipEdgeError(
      "too_large",
      `request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`,
    );
  }
  return readCappedStream(
    request.body,
    maxBytes,
    () => new ClipEdgeError("too_large", `request body exceeds the limit of ${maxBytes} bytes`),
  );
}

export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw new ClipEdgeError(
      "malformed",
      `request body is not valid JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function parseBool(value: unknown, name: string): boolean {
  if (value === undefined || value === null || value === "") return false;
  if (value === true || value === "true" || value === "1") return true;
  if (value === false || value === "false" || value === "0") return false;
  throw new ClipEdgeError(
    "invalid_input",
    `"${name}" must be a boolean, got ${JSON.stringify(value)}`,
  );
}

function decodeImage(value: unknown, label: string): Uint8Array {
  let text: unknown = value;
  if (typeof value === "object" && value !== null) {
    const o = value as Record<string, unknown>;
    text = o.b64 ?? o.base64 ?? o.data;
  }
  if (typeof text !== "string") {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: expected a base64 string or { "b64": string }`,
    );
  }
  const comma = text.startsWith("data:") ? text.indexOf(",") : -1;
  if (text.startsWith("data:") && (comma < 0 || !text.slice(0, comma).endsWith(";base64"))) {
    throw new ClipEdgeError("invalid_input", `${label}: data URL must be base64-encoded`);
  }
  const payload = (comma >= 0 ? text.slice(comma + 1) : text).replace(/\s+/g, "");
  const bytes = payload.length === 0 ? undefined : tryDecode(payload);
  if (!bytes) {
    throw new ClipEdgeError(
      "invalid_input",
      `${label}: not valid base64 (${payload.length} characters)`,
    );
  }
  return bytes;
}

function tryDecode(payload: string): Uint8Array | undefined {
  try {
    return decodeBase64(payload);
  } catch {
    return undefined;
  }
}

function checkCount(images: Uint8Array[], limits: RequestLimits): void {
  if (images.length === 0) throw new ClipEdgeError("invalid_input", "request contains no images");
  if (images.length > limits.maxImagesPerRequest) {
    throw new ClipEdgeError(
      "too_large",
      `request has ${images.length} images, the limit is ${limits.maxImagesPerRequest}`,
    );
  }
}

export async function readImageRequest(
  request: Request,
  limits: RequestLimits,
): Promise<ImageRequest> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const query = new URL(request.url).searchParams;
  if (type === "application/octet-stream" || type.startsWith("image/")) {
    const body = await readCapped(request, limits.maxRequestBytes);
    if (body.length === 0) throw new ClipEdgeError("invalid_input", "request body is empty");
    return {
      images: [body],
      normalize: parseBool(query.get("normalize") ?? undefined, "normalize"),
    };
  }
  if (type === "multipart/form-data") {
    const body = await readCapped(request, limits.maxRequestBytes);
    let form: FormData;
    try {
      form = await new Response(body, {
        headers: { "content-type": request.headers.get("content-type") ?? "" },
      }).formData();
    } catch (error) {
      throw new ClipEdgeError("malformed", "multipart body could not be parsed", { cause: error });
    }
    const images: Uint8Array[] = [];
    for (const [, value] of form.entries()) {
      if (typeof value !== "string") images.push(new Uint8Array(await value.arrayBuffer()));
    }
    checkCount(images, limits);
    const normalize = form.get("normalize") ?? query.get("normalize") ?? undefined;
    return { images, normalize: parseBool(normalize, "normalize") };
  }
  if (type === "application/json") {
    const body = await readCapped(request, limits.maxRequestBytes);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch (error) {
      throw new ClipEdgeError(
        "malformed",
        `request body is not valid JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new ClipEdgeError("invalid_input", 'JSON body must be an object with "images"');
    }
    const o = json as Record<string, unknown>;
    const list = o.images ?? (o.image === undefined ? undefined : [o.image]);
    if (!Array.isArray(list)) throw new ClipEdgeError("invalid_input", '"images" must be an array');
    if (list.length > limits.maxImagesPerRequest) checkCount(new Array(list.length), limits);
    const images = list.map((item, i) => decodeImage(item, `images[${i}]`));
    checkCount(images, limits);
    return { images, normalize: parseBool(o.normalize, "normalize") };
  }
  throw new ClipEdgeError(
    "unsupported_media_type",
    `content type "${type || "(none)"}" is not accepted; send multipart/form-data, application/json, application/octet-stream or image/*`,
  );
}
