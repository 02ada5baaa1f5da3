import type { QuantizationReport } from "../../conditioning/bundle/manifest.ts";
import { textQuantizationReport } from "../../node/prepare/quant-report.ts";
import { createOrtNodeSession } from "../../node/runtime/ort-node-session.ts";
import type { PreparedModel } from "../synthetic/model-cache.ts";
import { filePath } from "../synthetic/model-cache.ts";
import { promptIds } from "./prompt-ids.ts";

/** Synthetic prompt lengths of the report (ids, since the models have no vocabulary). */
const LENGTHS = [3, 8, 20, 40, 77];

/**
 * The prepare step's quantisation report (node/prepare/quant-report.ts:
 * per-token cosine of last_hidden_state, text_embeds cosine, max abs error)
 * of a quantised variant against the fp32 variant, run with onnxruntime-node.
 */
export async function quantReport(
  reference: PreparedModel,
  quantized: PreparedModel,
  maxPositions: number,
): Promise<QuantizationReport> {
  const ref = await createOrtNodeSession(filePath(reference, reference.graph));
  const got = await createOrtNodeSession(filePath(quantized, quantized.graph));
  try {
    const ids = LENGTHS.map((n, i) =>
      Array.from(promptIds(1, Math.min(n, maxPositions), maxPositions, i + 11), Number),
    );
    return await textQuantizationReport(ref, got, {
      prompts: LENGTHS.map((n) => `<synthetic ids, ${n} tokens>`),
      ids,
      seq: maxPositions,
    });
  } finally {
    await ref.release();
    await got.release();
  }
}
