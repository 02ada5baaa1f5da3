/**
 * The evaluation report: one self-contained HTML file (no script, no external resource):
 * the aggregate with its bootstrap interval, a histogram of per-image CLIP scores as inline
 * SVG, the best and worst matches with thumbnails (JPEG data URIs), the per-prompt means and
 * a table with a row per image (`data-id` carries the item id).
 */
import type { BootstrapInterval, HistogramBin, PromptStats } from "./eval-stats.ts";

export interface ReportRow {
  id: string;
  prompt: string;
  clip_score: number;
  cosine: number;
}

export interface ReportInput {
  title: string;
  /** The scorer and model, as written in the state file. */
  run: Record<string, string>;
  aggregate: number;
  interval: BootstrapInterval;
  rows: readonly ReportRow[];
  errors: readonly { id: string; error: string }[];
  prompts: readonly PromptStats[];
  histogram: readonly HistogramBin[];
  best: readonly ReportRow[];
  worst: readonly ReportRow[];
  /** Thumbnail data URIs by item id (best and worst). */
  thumbnails: ReadonlyMap<string, string>;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const fmt = (v: number, digits = 2) => v.toFixed(digits);

export function histogramSvg(bins: readonly HistogramBin[], width = 600, height = 180): string {
  if (bins.length === 0) return "";
  const pad = 24;
  const max = Math.max(...bins.map((b) => b.count), 1);
  const w = (width - 2 * pad) / bins.length;
  const bars = bins
    .map((b, i) => {
      const h = ((height - 2 * pad) * b.count) / max;
      return `<rect x="${fmt(pad + i * w)}" y="${fmt(height - pad - h)}" width="${fmt(Math.max(w - 1, 1))}" height="${fmt(h)}" fill="#4a7bd0"><title>${fmt(b.from)}-${fmt(b.to)}: ${b.count}</title></rect>`;
    })
    .join("");
  const first = bins[0].from;
  const last = bins[bins.length - 1].to;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="histogram" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="histogram of CLIP scores">${bars}<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#333"/><text x="${pad}" y="${height - 6}" font-size="11">${fmt(first)}</text><text x="${width - pad}" y="${height - 6}" font-size="11" text-anchor="end">${fmt(last)}</text><text x="${pad}" y="14" font-size="11">max ${max} images</text></svg>`;
}

function cards(rows: readonly ReportRow[], thumbnails: ReadonlyMap<string, string>): string {
  return rows
    .map((r) => {
      const src = thumbnails.get(r.id);
      const img = src
        ? `<img src="${src}" alt="${escapeHtml(r.id)}">`
        : `<div class="noimg">no preview</div>`;
      return `<figure data-id="${escapeHtml(r.id)}">${img}<figcaption><b>${fmt(r.clip_score)}</b> (cos ${fmt(r.cosine, 3)}) ${escapeHtml(r.id)}<br>${escapeHtml(r.prompt)}</figcaption></figure>`;
    })
    .join("");
}

export function renderReportHtml(input: ReportInput): string {
  const { interval } = input;
  const run = Object.entries(input.run)
    .map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`)
    .join(" · ");
  const promptRows = input.prompts
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.prompt)}</td><td>${p.n}</td><td>${fmt(p.clip_score, 4)}</td><td>${fmt(p.clip_score_mean, 4)}</td></tr>`,
    )
    .join("");
  const imageRows = input.rows
    .map(
      (r, i) =>
        `<tr data-id="${escapeHtml(r.id)}"><td>${i + 1}</td><td>${escapeHtml(r.id)}</td><td>${escapeHtml(r.prompt)}</td><td>${fmt(r.clip_score, 4)}</td><td>${r.cosine.toFixed(6)}</td></tr>`,
    )
    .join("");
  const errorRows = input.errors
    .map(
      (e) =>
        `<tr data-id="${escapeHtml(e.id)}"><td>${escapeHtml(e.id)}</td><td>${escapeHtml(e.error)}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
.grid{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0;width:140px;font-size:12px}
figure img{max-width:128px;max-height:128px;display:block}.noimg{width:128px;height:64px;background:#eee}
.big{font-size:28px;font-weight:600}
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p>${run}</p>
<p>CLIP score (torchmetrics, max(mean(100·cos), 0)) over <span id="count">${input.rows.length}</span> images:
<span class="big" id="aggregate" data-value="${input.aggregate}">${fmt(input.aggregate, 4)}</span>,
${Math.round(interval.level * 100)}% interval <span id="interval" data-low="${interval.low}" data-high="${interval.high}">[${fmt(interval.low, 4)}, ${fmt(interval.high, 4)}]</span>
(percentile bootstrap, ${interval.resamples} resamples, seed ${interval.seed}).${input.errors.length > 0 ? ` ${input.errors.length} images failed (below).` : ""}</p>
<h2>Per-image CLIP scores</h2>
${histogramSvg(input.histogram)}
<h2>Best matches</h2><div class="grid" id="best">${cards(input.best, input.thumbnails)}</div>
<h2>Worst matches</h2><div class="grid" id="worst">${cards(input.worst, input.thumbnails)}</div>
<h2>Per prompt</h2>
<table id="prompts"><tr><th>prompt</th><th>images</th><th>CLIP score</th><th>mean per-image score</th></tr>${promptRows}</table>
<h2>All images (best first)</h2>
<table id="images"><tr><th>#</th><th>id</th><th>prompt</th><th>CLIP score</th><th>cosine</th></tr>${imageRows}</table>
${errorRows ? `<h2>Errors</h2><table id="errors"><tr><th>id</th><th>error</th></tr>${errorRows}</table>` : ""}
</body></html>
`;
}
