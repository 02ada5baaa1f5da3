import { describe, expect, it } from "vitest";
import { escapeHtml, histogramSvg, renderReportHtml } from "../../../node/eval/eval-report-html.ts";
import { bootstrapInterval, histogram } from "../../../node/eval/eval-stats.ts";

describe("HTML report", () => {
  it("a row per image, best/worst cards with their thumbnails, escaped text, no external resource", () => {
    const rows = [
      { id: "b<1>.png", prompt: 'a "cat" & <dog>', cosine: 0.3, clip_score: 30 },
      { id: "c.png", prompt: "x", cosine: 0.1, clip_score: 10 },
      { id: "a.png", prompt: "y", cosine: -0.2, clip_score: 0 },
    ];
    const html = renderReportHtml({
      title: "t",
      run: { scorer: "local" },
      aggregate: 6.6667,
      interval: bootstrapInterval([0.3, 0.1, -0.2]),
      rows,
      errors: [{ id: "bad.png", error: "cannot <decode>" }],
      prompts: [{ prompt: "x", n: 1, clip_score: 10, clip_score_mean: 10 }],
      histogram: histogram(
        rows.map((r) => r.clip_score),
        5,
      ),
      best: rows.slice(0, 1),
      worst: rows.slice(2),
      thumbnails: new Map([["b<1>.png", "data:image/jpeg;base64,AAAA"]]),
    });
    expect(html).toContain('<span class="big" id="aggregate" data-value="6.6667">6.6667</span>');
    for (const r of rows) expect(html).toContain(`<tr data-id="${escapeHtml(r.id)}">`);
    expect(html).toContain("a &quot;cat&quot; &amp; &lt;dog&gt;");
    expect(html).not.toContain("<dog>");
    expect(html).toContain('<img src="data:image/jpeg;base64,AAAA" alt="b&lt;1&gt;.png">');
    expect(html).toContain('<div class="noimg">no preview</div>');
    expect(html).toContain("cannot &lt;decode&gt;");
    expect(html).not.toMatch(/(src|href)="(https?:|\/\/)/);
    expect(html).not.toContain("<script");
    const svg = histogramSvg(histogram([0, 10, 30], 3));
    expect(svg.match(/<rect /g)).toHaveLength(3);
  });
});
