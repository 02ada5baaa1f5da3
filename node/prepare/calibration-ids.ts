import { createHash } from "node:crypto";
import { BUILTIN_CALIBRATION_PROMPTS } from "./calibration-prompts.ts";
import { REPORT_PROMPTS, type ReportInputs } from "./quant-report.ts";

export interface PromptTokenizer {
  encodeForModel(text: string, o: { maxLength: number; pad: number }): { ids: number[] };
}

/** Fixed pseudo-random token ids of the given lengths (for checkpoints without a tokenizer). */
export function syntheticIds(
  lengths: readonly number[],
  padId: number,
  seq: number,
  vocabSize: number,
  seed = 7,
): ReportInputs {
  const ids: number[][] = [];
  const prompts: string[] = [];
  let state = seed;
  for (const len of lengths) {
    // SOT/EOT are the two largest ids of the CLIP vocabulary (49406, 49407 for the real one).
    const row = [vocabSize - 2];
    for (let i = 0; i < len; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      row.push(state % (vocabSize - 2));
    }
    row.push(vocabSize - 1);
    while (row.length < seq) row.push(Math.min(padId, vocabSize - 1));
    ids.push(row.slice(0, seq));
    prompts.push(`<synthetic ids, ${len} tokens>`);
  }
  return { prompts, ids, seq };
}

function encodeAll(tokenizer: PromptTokenizer, prompts: string[], padId: number, seq: number) {
  return prompts.map((p) => tokenizer.encodeForModel(p, { maxLength: seq, pad: padId }).ids);
}

/** Report ids: the fixed prompts through the checkpoint's tokenizer, or deterministic ids without one. */
export function reportInputs(
  tokenizer: PromptTokenizer | undefined,
  padId: number,
  seq: number,
  vocabSize = 49408,
): ReportInputs {
  if (!tokenizer) return syntheticIds([3, 8, 20, 40, 75], padId, seq, vocabSize);
  const prompts = [...REPORT_PROMPTS];
  return { prompts, ids: encodeAll(tokenizer, prompts, padId, seq), seq };
}

export interface CalibrationSet extends ReportInputs {
  builtin: number;
  /** SHA-256 of the id rows: what `verify` checks it recomputes over. */
  sha256: string;
}

/**
 * The guard's calibration set: the built-in prompts plus `extra` (from
 * `--calibration FILE`) through the tokenizer; without a tokenizer, 32 rows of
 * pseudo-random ids of varied lengths.
 */
export function calibrationSet(
  tokenizer: PromptTokenizer | undefined,
  padId: number,
  seq: number,
  vocabSize: number,
  extra: readonly string[] = [],
): CalibrationSet {
  let inputs: ReportInputs;
  let builtin = BUILTIN_CALIBRATION_PROMPTS.length;
  if (tokenizer) {
    const prompts = [...BUILTIN_CALIBRATION_PROMPTS, ...extra];
    inputs = { prompts, ids: encodeAll(tokenizer, prompts, padId, seq), seq };
  } else {
    const lengths = Array.from({ length: 32 }, (_, i) => 1 + ((i * 37) % (seq - 2)));
    inputs = syntheticIds(lengths, padId, seq, vocabSize, 11);
    builtin = lengths.length;
  }
  const sha256 = createHash("sha256").update(JSON.stringify(inputs.ids)).digest("hex");
  return { ...inputs, builtin, sha256 };
}
