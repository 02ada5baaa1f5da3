import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import { createConditioner } from "../../conditioning/conditioner/conditioner.ts";
import { conditioningMetadataStrings } from "../../conditioning/conditioner/metadata.ts";
import { isPresetName, PRESET_NAMES, PRESETS } from "../../conditioning/conditioner/presets.ts";
import {
  type ConditioningRequest,
  parseConditioningRequest,
  REQUEST_DEFAULTS,
} from "../../conditioning/conditioner/request-schema.ts";
import type { EncoderBinding } from "../../conditioning/conditioner/types.ts";
import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";
import {
  serializeTensors,
  type TensorFormat,
} from "../../conditioning/formats/serialize-tensors.ts";
import { loadTokenizer, type Tokenizer } from "../../conditioning/tokenizer/index.ts";
import type { AdaptedSession } from "../../node/runtime/adapt-session.ts";
import { openBundleGraphWeb } from "../../node/runtime/bundle-session.ts";
import { type LoadedBundle, loadBundle } from "../../node/runtime/load-bundle.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";

const USAGE = `Usage: clip-edge condition --model BUNDLE [--model2 BUNDLE] --preset sd15|sd2|sdxl|flux
    --prompt TEXT [--prompt TEXT ...] [--negative TEXT] [--prompt-2 TEXT] [--negative-2 TEXT]
    [--clip-skip K | --a1111-clip-skip N]
    [--clip-skip-negative] [--weighting none|a1111|a1111-no-norm|comfy|compel]
    [--long truncate|chunk] [--num-images N] [--dtype float32|float16] --out FILE

Encodes prompts into diffusers conditioning tensors (prompt_embeds, negative_prompt_embeds,
pooled_prompt_embeds, negative_pooled_prompt_embeds) with the bundles' text graphs
(onnxruntime-web) and writes them to FILE. The format follows the extension:
.safetensors (default), .npy (prompt_embeds only), .npz, .json, .bin (raw + FILE.json index).

Options:
  --model DIR            bundle (text encoder 1)
  --model2 DIR           second bundle (sdxl: OpenCLIP bigG text_encoder_2)
  --preset NAME          sd15, sd2, sdxl or flux
  --prompt TEXT          prompt (repeat for a batch)
  --negative TEXT        negative prompt (default: preset rule; sdxl: zeros)
  --prompt-2 TEXT        sdxl: text for text_encoder_2 (default: --prompt; repeat per prompt)
  --negative-2 TEXT      sdxl: negative text for text_encoder_2 (default: --negative)
  --clip-skip K          diffusers numbering (1 = penultimate layer)
  --a1111-clip-skip N    A1111 numbering (2 = diffusers 1)
  --clip-skip-negative   apply clip skip to the negative prompt too
  --weighting MODE       prompt weighting (default none: text used verbatim)
  --long MODE            truncate (default) or chunk (77 x n)
  --num-images N         num_images_per_prompt (default 1)
  --dtype TYPE           float32 (default) or float16
  --out FILE             output file
`;

export interface OpenedEncoder {
  binding: EncoderBinding;
  bundle: LoadedBundle;
  session: AdaptedSession;
}

/** The tokenizer of a bundle, from the files its manifest lists. */
export function loadBundleTokenizer(bundle: LoadedBundle): Promise<Tokenizer> {
  return loadTokenizer(
    async (name) => (bundle.manifest.tokenizer.files.includes(name) ? bundle.readFile(name) : null),
    { where: bundle.dir },
  );
}

/** Opens a bundle's text graph (onnxruntime-web) and tokenizer as an EncoderBinding. */
export async function openTextEncoder(dir: string): Promise<OpenedEncoder> {
  const bundle = loadBundle(dir);
  const graph = bundle.graph("text");
  if (!graph) throw new ClipEdgeError("not_found", `bundle ${dir} has no text graph`);
  const tokenizer = await loadBundleTokenizer(bundle);
  const session = await openBundleGraphWeb(bundle, "text");
  return {
    bundle,
    session,
    binding: {
      id: bundle.manifest.name,
      hash: graph.sha256,
      session,
      tokenizer,
      manifest: bundle.manifest,
    },
  };
}

function formatFor(out: string): TensorFormat {
  switch (extname(out).toLowerCase()) {
    case ".npy":
      return "npy";
    case ".npz":
      return "npz";
    case ".json":
      return "json";
    case ".bin":
    case ".raw":
      return "raw";
    case ".safetensors":
      return "safetensors";
    default:
      throw new ClipEdgeError(
        "usage",
        `condition: --out ${out}: the extension picks the format; use .safetensors, .npy, .npz, .json, .bin or .raw`,
      );
  }
}

/** The tensors `format` writes: .npy holds prompt_embeds alone (the rest need .npz). */
function writtenNames(
  format: TensorFormat,
  names: string[],
): { written: string[]; left: string[] } {
  if (format !== "npy" || names.length === 1) return { written: names, left: [] };
  return { written: ["prompt_embeds"], left: names.filter((n) => n !== "prompt_embeds") };
}

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new ClipEdgeError("usage", `condition: --${name} must be an integer, got ${value}`);
  return n;
}

/**
 * The request the options spell, through the one schema (the worker's too); a bad value is
 * a usage error that names the request field (`--num-images` is `num_images_per_prompt`).
 */
function requestFromOptions(
  prompts: string[],
  values: Record<string, string | string[] | boolean | undefined>,
): ConditioningRequest {
  const text = (name: string) => values[name] as string | undefined;
  const prompt2 = values["prompt-2"] as string[] | undefined;
  const candidate = {
    prompts,
    negative_prompt: text("negative"),
    prompt_2: prompt2?.length === 1 ? prompt2[0] : prompt2,
    negative_prompt_2: text("negative-2"),
    clip_skip: intOption("clip-skip", text("clip-skip")),
    a1111_clip_skip: intOption("a1111-clip-skip", text("a1111-clip-skip")),
    clip_skip_negative: values["clip-skip-negative"] === true,
    weighting: text("weighting"),
    long_prompt: text("long"),
    num_images_per_prompt: intOption("num-images", text("num-images")),
    dtype: text("dtype"),
  };
  try {
    return parseConditioningRequest(candidate);
  } catch (error) {
    if (isClipEdgeError(error) && error.code === "invalid_request") {
      throw new ClipEdgeError("usage", `condition: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

export const command: Command = {
  name: "condition",
  summary: "Prompts -> diffusers conditioning tensors (safetensors, npy, json, raw)",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("condition", argv, {
      model: { type: "string" },
      model2: { type: "string" },
      preset: { type: "string" },
      prompt: { type: "string", multiple: true },
      negative: { type: "string" },
      "prompt-2": { type: "string", multiple: true },
      "negative-2": { type: "string" },
      "clip-skip": { type: "string" },
      "a1111-clip-skip": { type: "string" },
      "clip-skip-negative": { type: "boolean" },
      weighting: { type: "string" },
      long: { type: "string" },
      "num-images": { type: "string" },
      dtype: { type: "string" },
      out: { type: "string" },
    });
    const model = requireOption("condition", "model", values.model);
    const presetName = requireOption("condition", "preset", values.preset);
    const out = requireOption("condition", "out", values.out);
    const format = formatFor(out);
    if (!isPresetName(presetName)) {
      throw new ClipEdgeError(
        "usage",
        `condition: --preset must be one of ${PRESET_NAMES.join(", ")}, got ${presetName}`,
      );
    }
    const preset = PRESETS[presetName];
    const prompts = values.prompt ?? [];
    if (prompts.length === 0)
      throw new ClipEdgeError("usage", "condition: missing required option --prompt");
    const dirs = [model, values.model2].filter((d): d is string => d !== undefined);
    if (dirs.length !== preset.encoders.length) {
      throw new ClipEdgeError(
        "usage",
        `condition: preset ${preset.name} needs ${preset.encoders.length} bundle(s) (${preset.encoders.length === 2 ? "--model and --model2" : "--model only"}), got ${dirs.length}`,
      );
    }
    const request = requestFromOptions(prompts, values);
    const dtype = request.dtype ?? REQUEST_DEFAULTS.dtype;
    const opened: OpenedEncoder[] = [];
    try {
      for (const dir of dirs) opened.push(await openTextEncoder(dir));
      const conditioner = createConditioner({
        preset,
        encoders: opened.map((o) => o.binding),
        tensorFactory: opened[0].session.tensor,
      });
      const result = await conditioner.encode(request);
      const file = serializeTensors(result.tensors, {
        format,
        dtype,
        metadata: conditioningMetadataStrings(result.metadata),
      });
      writeFileSync(out, file.bytes);
      if (file.index !== undefined) writeFileSync(`${out}.json`, file.index);
      const { written, left } = writtenNames(format, Object.keys(result.tensors));
      const shapes = written
        .map((name) => `${name} [${result.tensors[name].shape.join(", ")}]`)
        .join(", ");
      io.stderr.write(`condition: wrote ${out} (${format}, ${dtype}): ${shapes}\n`);
      if (left.length > 0) {
        io.stderr.write(
          `condition: .npy holds one tensor; not written: ${left.join(", ")} (use .npz or .safetensors for all)\n`,
        );
      }
      for (const p of result.metadata.prompts) {
        if (p.truncated) {
          io.stderr.write(
            `condition: truncated ${p.droppedTokens} token(s) of ${JSON.stringify(p.text.slice(0, 40))}: dropped ${JSON.stringify(p.droppedText)}\n`,
          );
        }
      }
      return 0;
    } finally {
      for (const o of opened) await o.session.release();
    }
  },
};
