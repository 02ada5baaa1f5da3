import type { Quantization } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { prepareBundle, type Tower } from "../../node/prepare/prepare-bundle.ts";
import { formatReport } from "../../node/prepare/quant-report.ts";
import type { TokenEmbeddingMode } from "../../node/prepare/token-embedding.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";

const USAGE = `Usage: clip-edge prepare --from HF_DIR --out BUNDLE_DIR [options]

Builds ONNX graphs (text.onnx, vision.onnx) + manifest.json from a Hugging Face CLIP checkpoint
(config.json + model.safetensors or a sharded model.safetensors.index.json).

Options:
  --from DIR              checkpoint folder (CLIPModel, CLIPTextModel[WithProjection], OpenAI/OpenCLIP names)
  --out DIR               bundle folder to write
  --quant fp32|int8|q4    weights: fp32 (default), int8 (dynamic MatMulInteger), q4 (MatMulNBits block 32)
  --towers text,vision    towers to export (default: all in the checkpoint)
  --hidden-states K       pre-final-LN hidden states to export (default 3)
  --attention-mask        add an attention_mask input to the text graph (default: causal mask only)
  --token-embedding fp32|int8|external-int8   token table for quantised variants (default int8;
                          external-int8: table in token_embedding.safetensors, graph input token_embeds)
  --q4-accuracy-level N   MatMulNBits accuracy_level for q4: 0 fp32 compute (default), 4 int8 compute
  --external-data BYTES   move initializers >= BYTES to <graph>.onnx.data
  --stages N              split the text graph into N layer groups + a head (final LN, pooling,
                          projection), one graph each (text.stage<i>.onnx), that a runtime loads one
                          at a time: only one stage's bytes are held in JS at once
  --edge                  shape the bundle for a 128 MB Worker isolate: --external-data 1024,
                          --token-embedding external-int8 (quantised only), --stages = text layers;
                          explicit flags win (docs/performance.md)
  --no-report             skip the quantisation report
  --name NAME             bundle name (default: folder name)
  --repo ID --revision REV  recorded as the bundle's source
`;

export const command: Command = {
  name: "prepare",
  summary: "Hugging Face CLIP checkpoint -> ONNX bundle (fp32, int8, q4)",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("prepare", argv, {
      from: { type: "string" },
      out: { type: "string" },
      quant: { type: "string", default: "fp32" },
      towers: { type: "string" },
      "hidden-states": { type: "string" },
      "token-embedding": { type: "string" },
      "external-data": { type: "string" },
      "q4-accuracy-level": { type: "string" },
      "no-report": { type: "boolean", default: false },
      "attention-mask": { type: "boolean", default: false },
      stages: { type: "string" },
      edge: { type: "boolean", default: false },
      name: { type: "string" },
      repo: { type: "string" },
      revision: { type: "string" },
    });
    const from = requireOption("prepare", "from", values.from);
    const out = requireOption("prepare", "out", values.out);
    const quant = values.quant as Quantization;
    if (!["fp32", "int8", "q4"].includes(quant)) {
      throw new ClipEdgeError("usage", `prepare: --quant must be fp32, int8 or q4, got ${quant}`);
    }
    let towers: Tower[] | undefined;
    if (values.towers) {
      towers = values.towers.split(",").map((t) => t.trim()) as Tower[];
      for (const t of towers) {
        if (t !== "text" && t !== "vision")
          throw new ClipEdgeError("usage", `prepare: --towers accepts text,vision, got ${t}`);
      }
    }
    const intOption = (name: string, value: string | undefined): number | undefined => {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new ClipEdgeError(
          "usage",
          `prepare: --${name} must be a non-negative integer, got ${value}`,
        );
      return n;
    };
    const edge = values.edge;
    const tokenEmbedding = (values["token-embedding"] ??
      (edge && quant !== "fp32" ? "external-int8" : undefined)) as TokenEmbeddingMode | undefined;
    if (tokenEmbedding && !["fp32", "int8", "external-int8"].includes(tokenEmbedding)) {
      throw new ClipEdgeError(
        "usage",
        `prepare: --token-embedding must be fp32, int8 or external-int8, got ${tokenEmbedding}`,
      );
    }
    const started = performance.now();
    const result = await prepareBundle({
      from,
      out,
      quantization: quant,
      towers,
      hiddenStates: intOption("hidden-states", values["hidden-states"]),
      tokenEmbedding,
      attentionMask: values["attention-mask"],
      q4AccuracyLevel: intOption("q4-accuracy-level", values["q4-accuracy-level"]),
      externalDataThreshold:
        intOption("external-data", values["external-data"]) ?? (edge ? 1024 : undefined),
      stages: intOption("stages", values.stages) ?? (edge ? "per-layer" : undefined),
      skipReport: values["no-report"],
      name: values.name,
      repo: values.repo,
      revision: values.revision,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    const report = result.manifest.quantizationReport?.[quant];
    if (report) io.stdout.write(`${formatReport(quant, report)}\n`);
    io.stdout.write(
      `wrote ${out}/manifest.json (${result.manifest.graphs.map((g) => `${g.file} ${g.bytes} bytes`).join(", ")}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  },
};
