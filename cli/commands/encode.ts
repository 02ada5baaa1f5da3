import { ClipEdgeError } from "../../conditioning/errors.ts";
import { openBundleGraphWeb } from "../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../node/runtime/load-bundle.ts";
import {
  type Command,
  parseCommandArgs,
  readJsonLines,
  requireOption,
  textField,
} from "../command.ts";
import { loadBundleTokenizer } from "./condition.ts";

const USAGE = `Usage: clip-edge encode --model BUNDLE_DIR [--pad 49407|0] < prompts.jsonl

Reads JSON Lines {"text": "..."} from stdin and writes one JSON line per input with
input_ids (77), last_hidden_state, penultimate_pre_ln, penultimate_post_ln, pooled and
text_embeds, computed by the bundle's text graph in onnxruntime-web (WASM).

Options:
  --model DIR   bundle folder (manifest.json + text.onnx + tokenizer files)
  --pad ID      padding id (default: the bundle tokenizer's pad id)
`;

function rows(data: Float32Array, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length; i += width) out.push(Array.from(data.subarray(i, i + width)));
  return out;
}

export const command: Command = {
  name: "encode",
  summary: "Encode JSON Lines {text} from stdin with a bundle (onnxruntime-web)",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("encode", argv, {
      model: { type: "string" },
      pad: { type: "string" },
    });
    const bundle = loadBundle(requireOption("encode", "model", values.model));
    const pad = values.pad === undefined ? bundle.manifest.tokenizer.padId : Number(values.pad);
    if (!Number.isInteger(pad) || pad < 0)
      throw new ClipEdgeError("usage", `encode: --pad must be a token id, got ${values.pad}`);
    const text = bundle.graph("text");
    if (!text)
      throw new ClipEdgeError("not_found", `encode: bundle ${bundle.dir} has no text graph`);
    if (!text.outputs.includes("hidden_states_2")) {
      throw new ClipEdgeError(
        "unsupported",
        `encode: bundle ${bundle.dir} exports no hidden_states_2 (prepared with --hidden-states < 2)`,
      );
    }
    const tokenizer = await loadBundleTokenizer(bundle);
    const maxLength = bundle.manifest.tokenizer.maxLength;
    const session = await openBundleGraphWeb(bundle, "text");
    const width = bundle.manifest.architecture.text?.hiddenSize ?? 0;
    const fetches = ["last_hidden_state", "hidden_states_2", "hidden_states_ln_2", "pooled"];
    if (text.outputs.includes("text_embeds")) fetches.push("text_embeds");
    try {
      for await (const { line, value } of readJsonLines(io.stdin)) {
        const prompt = textField(value, line);
        const { ids } = tokenizer.encodeForModel(prompt, { maxLength, pad });
        const out = await session.run(
          { input_ids: session.tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]) },
          fetches,
        );
        const f = (name: string) => out[name].data as Float32Array;
        const record: Record<string, unknown> = {
          input_ids: ids,
          last_hidden_state: rows(f("last_hidden_state"), width),
          penultimate_pre_ln: rows(f("hidden_states_2"), width),
          penultimate_post_ln: rows(f("hidden_states_ln_2"), width),
          pooled: Array.from(f("pooled")),
        };
        if (out.text_embeds) record.text_embeds = Array.from(f("text_embeds"));
        io.stdout.write(`${JSON.stringify(record)}\n`);
      }
    } finally {
      await session.release();
    }
    return 0;
  },
};
