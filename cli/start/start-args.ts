/** `npm start -- [--model SPEC] [--port N] [--quant fp32|int8|q4] ...` */
import { parseArgs } from "node:util";
import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export const DEFAULT_MODEL = "openai/clip-vit-large-patch14";

export const START_USAGE = `npm start -- [options]

Prepares a model (if needed), puts it into wrangler's local R2 and runs the worker
with wrangler dev on http://127.0.0.1:8787.

  --model SPEC        hub id (owner/name[/subfolder][@revision]), a local Hugging Face
                      folder, or a prepared bundle folder (default ${DEFAULT_MODEL})
  --quant Q           fp32 (default) | int8 | q4, when the model needs preparing
  --name NAME         model name in R2 and the API (default: from the model)
  --port N            port (default 8787)
  --ip ADDRESS        address (default 127.0.0.1)
  --persist-to DIR    wrangler local state (default .wrangler/state)
  --seed-only         prepare and seed local R2, do not run wrangler dev
  --origin            also start the image origin (npm run origin) for /v1/score and image
                      embeddings, on the loopback at --origin-port, with a generated secret
  --origin-port N     port of the origin started by --origin (default: --port + 1)
  --origin-url URL    use an origin that is already running; its secret comes from the
                      ORIGIN_SECRET environment variable (>= 16 characters)
  --var NAME:VALUE    a worker var, e.g. --var BATCH_CHUNK_LINES:50 (repeatable; passed to
                      wrangler dev --var; the limits are in docs/worker.md)
`;

export interface StartOptions {
  model: string;
  quant: Quantization;
  name?: string;
  port: number;
  ip: string;
  persistTo: string;
  seedOnly: boolean;
  help: boolean;
  /** Start the image origin beside the worker. */
  origin: boolean;
  originPort: number;
  /** A running origin to wire in instead (secret from ORIGIN_SECRET). */
  originUrl?: string;
  /** Extra `wrangler dev --var NAME:VALUE` pairs. */
  vars: string[];
}

export function parseStartArgs(argv: readonly string[]): StartOptions {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: "string", default: DEFAULT_MODEL },
        quant: { type: "string", default: "fp32" },
        name: { type: "string" },
        port: { type: "string", default: "8787" },
        ip: { type: "string", default: "127.0.0.1" },
        "persist-to": { type: "string", default: ".wrangler/state" },
        "seed-only": { type: "boolean", default: false },
        origin: { type: "boolean", default: false },
        "origin-port": { type: "string" },
        "origin-url": { type: "string" },
        var: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (cause) {
    throw new ClipEdgeError("usage", `start: ${(cause as Error).message}\n\n${START_USAGE}`, {
      cause,
    });
  }
  const quant = values.quant as Quantization;
  if (!["fp32", "int8", "q4"].includes(quant)) {
    throw new ClipEdgeError("usage", `start: --quant must be fp32, int8 or q4, got ${quant}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ClipEdgeError("usage", `start: --port must be a port number, got ${values.port}`);
  }
  const originPort = values["origin-port"] === undefined ? port + 1 : Number(values["origin-port"]);
  if (!Number.isInteger(originPort) || originPort < 1 || originPort > 65535) {
    throw new ClipEdgeError(
      "usage",
      `start: --origin-port must be a port number, got ${values["origin-port"]}`,
    );
  }
  const originUrl = values["origin-url"] as string | undefined;
  if (originUrl !== undefined) {
    if (values.origin) {
      throw new ClipEdgeError("usage", "start: pass --origin or --origin-url, not both");
    }
    if (!URL.canParse(originUrl) || !/^https?:$/.test(new URL(originUrl).protocol)) {
      throw new ClipEdgeError(
        "usage",
        `start: --origin-url must be an http(s) URL, got ${originUrl}`,
      );
    }
  }
  const vars = values.var as string[];
  for (const pair of vars) {
    if (!/^[A-Z_][A-Z0-9_]*:/.test(pair)) {
      throw new ClipEdgeError("usage", `start: --var must be NAME:VALUE, got ${pair}`);
    }
  }
  return {
    vars,
    model: values.model as string,
    quant,
    name: values.name as string | undefined,
    port,
    ip: values.ip as string,
    persistTo: values["persist-to"] as string,
    seedOnly: values["seed-only"] as boolean,
    help: values.help as boolean,
    origin: values.origin as boolean,
    originPort,
    originUrl,
  };
}
