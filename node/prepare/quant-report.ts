import type { QuantizationReport } from "../../conditioning/bundle/manifest.ts";
import type { AdaptedSession } from "../runtime/adapt-session.ts";

/** Fixed prompt set of the quantisation report (varied lengths, one truncated). */
export const REPORT_PROMPTS: readonly string[] = [
  "a photograph of an astronaut riding a horse",
  "A cozy coffee shop interior, warm light, film grain, 35mm",
  "portrait of an old fisherman, dramatic lighting, highly detailed, oil painting by rembrandt",
  "cat",
  "",
  "a red cube on top of a blue sphere, next to a green pyramid, studio photo",
  "An ultra-wide landscape of snowy mountains at dawn with a frozen lake in the foreground, pink clouds, volumetric fog, crisp reflections, award winning photography, 8k, sharp focus, national geographic, trending on artstation, intricate, elegant",
  "logo of a fox, vector art, flat colors",
];

export interface ReportInputs {
  prompts: string[];
  /** One row of `seq` ids per prompt. */
  ids: number[][];
  seq: number;
}

function cosine(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[ao + i] * b[bo + i];
    na += a[ao + i] ** 2;
    nb += b[bo + i] ** 2;
  }
  return na === 0 || nb === 0 ? (na === nb ? 1 : 0) : dot / Math.sqrt(na * nb);
}

export interface TensorStats {
  cosineMin: number;
  cosineMean: number;
  maxAbsError: number;
}

/** Row-wise cosine (rows of `width`) and max abs difference of two equally shaped tensors. */
export function compareRows(ref: Float32Array, test: Float32Array, width: number): TensorStats {
  let min = 1;
  let sum = 0;
  let maxAbs = 0;
  const rows = ref.length / width;
  for (let r = 0; r < rows; r++) {
    const c = cosine(ref, r * width, test, r * width, width);
    min = Math.min(min, c);
    sum += c;
  }
  for (let i = 0; i < ref.length; i++) maxAbs = Math.max(maxAbs, Math.abs(ref[i] - test[i]));
  return { cosineMin: min, cosineMean: sum / rows, maxAbsError: maxAbs };
}

/** Quantised text graph vs the fp32 reference on the same ids. */
export async function textQuantizationReport(
  reference: AdaptedSession,
  quantized: AdaptedSession,
  inputs: ReportInputs,
): Promise<QuantizationReport> {
  const flat = BigInt64Array.from(inputs.ids.flat(), (v) => BigInt(v));
  const dims = [inputs.ids.length, inputs.seq];
  const fetches = [
    "last_hidden_state",
    ...(reference.outputNames.includes("text_embeds") ? ["text_embeds"] : []),
  ];
  const ref = await reference.run({ input_ids: reference.tensor("int64", flat, dims) }, fetches);
  const got = await quantized.run({ input_ids: quantized.tensor("int64", flat, dims) }, fetches);
  const refH = ref.last_hidden_state.data as Float32Array;
  const width = refH.length / (dims[0] * dims[1]);
  const tokens = compareRows(refH, got.last_hidden_state.data as Float32Array, width);
  const report: QuantizationReport = {
    prompts: inputs.prompts,
    tokenCosineMin: tokens.cosineMin,
    tokenCosineMean: tokens.cosineMean,
    maxAbsError: tokens.maxAbsError,
  };
  if (ref.text_embeds) {
    const e = ref.text_embeds.data as Float32Array;
    const stats = compareRows(e, got.text_embeds.data as Float32Array, e.length / dims[0]);
    report.textEmbedsCosineMin = stats.cosineMin;
    report.maxAbsError = Math.max(report.maxAbsError, stats.maxAbsError);
  }
  return report;
}

/** Cosine of image_embeds (quantised vs fp32) on deterministic pseudo-random pixel batches. */
export async function visionCosineMin(
  reference: AdaptedSession,
  quantized: AdaptedSession,
  imageSize: number,
  images = 2,
): Promise<number> {
  const n = images * 3 * imageSize * imageSize;
  const pixels = new Float32Array(n);
  let state = 12345;
  for (let i = 0; i < n; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    pixels[i] = (state / 2 ** 32) * 4 - 2;
  }
  const dims = [images, 3, imageSize, imageSize];
  const out = reference.outputNames.includes("image_embeds") ? "image_embeds" : "vision_pooled";
  const ref = await reference.run({ pixel_values: reference.tensor("float32", pixels, dims) }, [
    out,
  ]);
  const got = await quantized.run({ pixel_values: quantized.tensor("float32", pixels, dims) }, [
    out,
  ]);
  const e = ref[out].data as Float32Array;
  return compareRows(e, got[out].data as Float32Array, e.length / images).cosineMin;
}

export function formatReport(quant: string, r: QuantizationReport): string {
  const f = (v: number | undefined) => (v === undefined ? "n/a" : v.toFixed(6));
  return [
    `quantisation report (${quant} vs fp32, ${r.prompts.length} prompts):`,
    `  last_hidden_state per-token cosine: min ${f(r.tokenCosineMin)} mean ${f(r.tokenCosineMean)}`,
    `  text_embeds cosine min: ${f(r.textEmbedsCosineMin)}`,
    `  image_embeds cosine min: ${f(r.imageEmbedsCosineMin)}`,
    `  max abs error: ${f(r.maxAbsError)}`,
  ].join("\n");
}
