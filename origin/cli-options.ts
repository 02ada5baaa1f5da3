/** `npm run origin -- --model DIR [--port 8788] [--provider cuda|cpu] ...` + environment. */
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ClipEdgeError } from "../conditioning/errors.ts";
import type { Provider } from "./model/provider-session.ts";

export const ORIGIN_USAGE = `Usage: npm run origin -- --model DIR [options]

  --model DIR|HUB_ID     prepared bundle (manifest.json), Hugging Face CLIP folder (prepared on first use)
                         or a hub id already pulled into --cache-dir (owner/name[/subfolder][@rev])
  --port N               listen port (default 8788, env PORT)
  --host ADDR            listen address (default 0.0.0.0)
  --provider cuda|cpu    execution provider (default env ORIGIN_PROVIDER or cpu); cuda falls back to cpu
  --device-id N          CUDA device (default 0)
  --threads N            intra-op threads for the CPU provider (default: onnxruntime's choice)
  --preprocess-threads N worker threads for resize/crop/normalise (default min(4, cores-1); 0 = inline)
  --max-batch N          images per session.run (default 32)
  --max-wait-ms N        how long a partial batch waits for more images (default 5)
  --max-queue N          images allowed to wait; beyond it 503 overloaded + Retry-After (default 256)
  --max-images N         images per request (default 64)
  --max-image-bytes N    encoded bytes per image (default 20 MiB)
  --max-pixels N         width*height per image, checked before decoding (default 50000000)
  --no-exif-orientation  do not apply EXIF orientation (OpenAI's PIL pipeline does not)
  --cache-dir DIR        where HF folders are prepared (default env CLIP_EDGE_CACHE or ~/.cache/clip-edge)

Environment: ORIGIN_SECRET (required, >= 16 characters) is the bearer token the worker sends.`;

export interface OriginCliOptions {
  model: string;
  port: number;
  host: string;
  provider: Provider;
  deviceId: number;
  threads?: number;
  preprocessThreads: number;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  maxImages: number;
  maxImageBytes: number;
  maxPixels: number;
  exifOrientation: boolean;
  cacheDir: string;
  secret: string;
}

function int(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new ClipEdgeError("usage", `--${name} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

export function parseOriginArgs(
  argv: string[],
  env: Record<string, string | undefined>,
): OriginCliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        model: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        provider: { type: "string" },
        "device-id": { type: "string" },
        threads: { type: "string" },
        "preprocess-threads": { type: "string" },
        "max-batch": { type: "string" },
        "max-wait-ms": { type: "string" },
        "max-queue": { type: "string" },
        "max-images": { type: "string" },
        "max-image-bytes": { type: "string" },
        "max-pixels": { type: "string" },
        "no-exif-orientation": { type: "boolean" },
        "cache-dir": { type: "string" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (error) {
    throw new ClipEdgeError("usage", `origin: ${(error as Error).message}`, { cause: error });
  }
  if (values.help) throw new ClipEdgeError("usage", ORIGIN_USAGE);
  const model = values.model as string | undefined;
  if (!model) throw new ClipEdgeError("usage", "origin: missing required option --model DIR");
  const provider = (values.provider as string | undefined) ?? env.ORIGIN_PROVIDER ?? "cpu";
  if (provider !== "cuda" && provider !== "cpu") {
    throw new ClipEdgeError("usage", `--provider must be cuda or cpu, got "${provider}"`);
  }
  const secret = env.ORIGIN_SECRET ?? "";
  if (secret.length < 16) {
    throw new ClipEdgeError(
      "usage",
      "origin: set ORIGIN_SECRET (at least 16 characters) to the secret the worker sends",
    );
  }
  const threads =
    values.threads === undefined ? undefined : int("threads", values.threads as string, 0, 1);
  return {
    model,
    port: int("port", (values.port as string | undefined) ?? env.PORT, 8788),
    host: (values.host as string | undefined) ?? "0.0.0.0",
    provider,
    deviceId: int("device-id", values["device-id"] as string | undefined, 0),
    ...(threads ? { threads } : {}),
    preprocessThreads: int(
      "preprocess-threads",
      values["preprocess-threads"] as string | undefined,
      Math.max(1, Math.min(4, availableParallelism() - 1)),
    ),
    maxBatch: int("max-batch", values["max-batch"] as string | undefined, 32, 1),
    maxWaitMs: int("max-wait-ms", values["max-wait-ms"] as string | undefined, 5),
    maxQueue: int("max-queue", values["max-queue"] as string | undefined, 256, 1),
    maxImages: int("max-images", values["max-images"] as string | undefined, 64, 1),
    maxImageBytes: int(
      "max-image-bytes",
      values["max-image-bytes"] as string | undefined,
      20 * 1024 * 1024,
      1,
    ),
    maxPixels: int("max-pixels", values["max-pixels"] as string | undefined, 50_000_000, 1),
    exifOrientation: !values["no-exif-orientation"],
    cacheDir:
      (values["cache-dir"] as string | undefined) ??
      env.CLIP_EDGE_CACHE ??
      join(homedir(), ".cache", "clip-edge"),
    secret,
  };
}
