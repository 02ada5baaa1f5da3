/**
 * `npm run prepare:synthetic`: generates a synthetic checkpoint at real CLIP
 * ViT-L/14 text dimensions and prepares it in fp32, int8 and q4, printing file
 * sizes, prepare times and the quantisation report. Not part of the default
 * test suite (it takes minutes and ~3 GB of memory).
 *
 *   tsx cli/prepare-synthetic.ts [--out DIR] [--tokenizer DIR]
 *     [--preset l14-text|b32|outlier-l14|outlier-tiny]
 *     [--quant fp32,int8,q4] [--token-embedding int8|external-int8] [--no-report] [--no-guard]
 *
 * The outlier presets are the outlier-realistic proxy of node/synthetic/outlier-checkpoint.ts
 * (massive start-position activations, high-gain LayerNorm channels, hot MLP units) at CLIP-L
 * text dims or tiny dims. int8 runs with the accuracy guard (as `clip-edge prepare` does) unless --no-guard.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { Quantization } from "../conditioning/bundle/manifest.ts";
import { formatGuard } from "../node/prepare/guard-report.ts";
import { prepareBundle } from "../node/prepare/prepare-bundle.ts";
import { formatReport } from "../node/prepare/quant-report.ts";
import type { TokenEmbeddingMode } from "../node/prepare/token-embedding.ts";
import { TINY_OUTLIER_TEXT, writeOutlierCheckpoint } from "../node/synthetic/outlier-checkpoint.ts";
import {
  CLIP_B32_TEXT,
  CLIP_B32_VISION,
  CLIP_L14_TEXT,
  writeSyntheticCheckpoint,
} from "../node/synthetic/synthetic-checkpoint.ts";

const USAGE = `Usage: npm run prepare:synthetic -- [--out DIR] [--tokenizer DIR]
    [--preset l14-text|b32|outlier-l14|outlier-tiny] [--quant fp32,int8,q4]
    [--token-embedding int8|external-int8] [--no-report] [--no-guard]

Generates a synthetic checkpoint (random weights at real CLIP dims, or the outlier-realistic
proxy) and prepares it, printing sizes, times and the quantisation report.
`;

const { values } = parseOptions({
  options: {
    help: { type: "boolean", short: "h", default: false },
    out: { type: "string" },
    tokenizer: { type: "string" },
    preset: { type: "string", default: "l14-text" },
    quant: { type: "string", default: "fp32,int8,q4" },
    "token-embedding": { type: "string" },
    "no-report": { type: "boolean", default: false },
    "no-guard": { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
/** parseArgs, with a bad option reported in one line (exit 2) instead of a stack trace. */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    process.stderr.write(`prepare:synthetic: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const root = values.out ? resolve(values.out) : mkdtempSync(join(tmpdir(), "clip-edge-synthetic-"));
const ckpt = join(root, "checkpoint");
let t = performance.now();
const PRESETS = ["l14-text", "b32", "outlier-l14", "outlier-tiny"];
if (!PRESETS.includes(values.preset)) {
  console.error(`--preset must be one of ${PRESETS.join(", ")}, got ${values.preset}`);
  process.exit(2);
}
const outlier = values.preset.startsWith("outlier-");
if (outlier) {
  writeOutlierCheckpoint(ckpt, {
    text: values.preset === "outlier-tiny" ? TINY_OUTLIER_TEXT : CLIP_L14_TEXT,
    projectionDim: values.preset === "outlier-tiny" ? 48 : 768,
  });
} else {
  writeSyntheticCheckpoint(
    ckpt,
    values.preset === "b32"
      ? { text: CLIP_B32_TEXT, vision: CLIP_B32_VISION, projectionDim: 512 }
      : { text: CLIP_L14_TEXT, projectionDim: 768 },
  );
}
// Real CLIP BPE files (the shared fixtures have them) make the report use real prompts.
const tokDir =
  values.tokenizer ?? resolve(process.env.CLIP_EDGE_FIXTURES ?? "../shared/fixtures", "vocab");
if (existsSync(join(tokDir, "vocab.json")) && existsSync(join(tokDir, "merges.txt"))) {
  for (const f of ["vocab.json", "merges.txt"])
    writeFileSync(join(ckpt, f), readFileSync(join(tokDir, f)));
}
console.log(
  `synthetic ${values.preset} checkpoint: ${(statSync(join(ckpt, "model.safetensors")).size / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s -> ${ckpt}`,
);
for (const quant of values.quant.split(",") as Quantization[]) {
  t = performance.now();
  const out = join(root, `bundle-${quant}`);
  const result = await prepareBundle({
    from: ckpt,
    out,
    quantization: quant,
    tokenEmbedding: values["token-embedding"] as TokenEmbeddingMode | undefined,
    skipReport: values["no-report"],
    guard: values["no-guard"] ? false : {},
    log: (line) => console.log(line),
  });
  const seconds = (performance.now() - t) / 1000;
  const sizes = result.manifest.graphs
    .map((g) => {
      const table = g.tokenEmbeddingTable;
      const extra = table ? ` + ${table.file} ${(table.bytes / 1e6).toFixed(1)} MB` : "";
      return `${g.file} ${(g.bytes / 1e6).toFixed(1)} MB${extra}`;
    })
    .join(", ");
  const phases = Object.entries(result.timings)
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`)
    .join(", ");
  console.log(`${quant}: ${sizes}; prepare ${seconds.toFixed(1)} s (${phases})`);
  const report = result.manifest.quantizationReport?.[quant];
  if (report) console.log(formatReport(quant, report));
  if (report?.guard) console.log(formatGuard(report.guard));
}
