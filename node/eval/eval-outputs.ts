/**
 * The files of a finished evaluation, in the output folder, from the items and the state:
 * - `scores.jsonl` and `scores.csv`: a row per image in manifest order
 *   (`id, file, prompt, cosine, clip_score`; failed images carry `error` instead);
 * - `prompts.csv`: per-prompt count, aggregate and mean per-image score;
 * - `summary.json`: counts, the aggregate, its bootstrap interval, per-prompt numbers;
 * - `report.html`: the self-contained report (eval-report-html.ts).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { clipScoreAggregateOfCosines } from "../../conditioning/scoring/clip-score.ts";
import { csvLine } from "./csv.ts";
import type { EvalItem } from "./eval-inputs.ts";
import { type ReportRow, renderReportHtml } from "./eval-report-html.ts";
import type { EvalState } from "./eval-state.ts";
import {
  type BootstrapInterval,
  bootstrapInterval,
  histogram,
  type PromptStats,
  perPromptStats,
} from "./eval-stats.ts";

export interface EvalSummary {
  images: number;
  scored: number;
  failed: number;
  pending: number;
  clip_score: number | null;
  interval: BootstrapInterval | null;
  prompts: PromptStats[];
  run: Record<string, string>;
}

export interface WriteOutputsOptions {
  items: readonly EvalItem[];
  state: EvalState;
  outDir: string;
  run: Record<string, string>;
  resamples?: number;
  seed?: number;
  /** Best and worst matches shown with thumbnails (default 12 each). */
  top?: number;
  thumbnail: (file: string) => Promise<string | undefined>;
  title?: string;
}

export async function writeEvalOutputs(options: WriteOutputsOptions): Promise<EvalSummary> {
  const { items, state, outDir } = options;
  const jsonl: string[] = [];
  const csv = [csvLine(["id", "file", "prompt", "cosine", "clip_score", "error"])];
  const rows: (ReportRow & { file: string })[] = [];
  const errors: { id: string; error: string }[] = [];
  let pending = 0;
  for (const item of items) {
    const r = state.get(item.id, item.prompt);
    if (!r) {
      pending++;
      continue;
    }
    if (r.type === "error") {
      errors.push({ id: item.id, error: r.error });
      jsonl.push(
        JSON.stringify({ id: item.id, file: item.file, prompt: item.prompt, error: r.error }),
      );
      csv.push(csvLine([item.id, item.file, item.prompt, "", "", r.error]));
      continue;
    }
    const clip_score = 100 * Math.max(r.cosine, 0);
    rows.push({ id: item.id, file: item.file, prompt: item.prompt, cosine: r.cosine, clip_score });
    jsonl.push(
      JSON.stringify({
        id: item.id,
        file: item.file,
        prompt: item.prompt,
        cosine: r.cosine,
        clip_score,
      }),
    );
    csv.push(csvLine([item.id, item.file, item.prompt, r.cosine, clip_score, ""]));
  }
  writeFileSync(join(outDir, "scores.jsonl"), jsonl.map((l) => `${l}\n`).join(""));
  writeFileSync(join(outDir, "scores.csv"), csv.join(""));

  const cosines = rows.map((r) => r.cosine);
  const prompts = perPromptStats(rows);
  writeFileSync(
    join(outDir, "prompts.csv"),
    [
      csvLine(["prompt", "n", "clip_score", "clip_score_mean"]),
      ...prompts.map((p) => csvLine([p.prompt, p.n, p.clip_score, p.clip_score_mean])),
    ].join(""),
  );
  const aggregate = rows.length > 0 ? clipScoreAggregateOfCosines(cosines) : null;
  const interval =
    rows.length > 0
      ? bootstrapInterval(cosines, { resamples: options.resamples, seed: options.seed })
      : null;
  const summary: EvalSummary = {
    images: items.length,
    scored: rows.length,
    failed: errors.length,
    pending,
    clip_score: aggregate,
    interval,
    prompts,
    run: options.run,
  };
  writeFileSync(join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);

  if (aggregate !== null && interval) {
    const sorted = [...rows].sort((a, b) => b.cosine - a.cosine);
    const top = Math.min(options.top ?? 12, Math.ceil(sorted.length / 2));
    const best = sorted.slice(0, top);
    const worst = sorted.slice(sorted.length - top).reverse();
    const thumbnails = new Map<string, string>();
    for (const r of [...best, ...worst]) {
      if (thumbnails.has(r.id)) continue;
      const uri = await options.thumbnail(r.file);
      if (uri) thumbnails.set(r.id, uri);
    }
    const html = renderReportHtml({
      title: options.title ?? "clip-edge eval",
      run: options.run,
      aggregate,
      interval,
      rows: sorted,
      errors,
      prompts,
      histogram: histogram(rows.map((r) => r.clip_score)),
      best,
      worst,
      thumbnails,
    });
    writeFileSync(join(outDir, "report.html"), html);
  }
  return summary;
}
