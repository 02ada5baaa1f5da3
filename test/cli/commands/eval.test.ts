/**
 * `clip-edge eval` in-process on the fixture photos x the goldens' prompts (15 pairs), locally
 * with the tiny-openai bundle: per-image cosines equal the OpenAI reference goldens and
 * `clip-edge score`'s numbers; the outputs, the report and a resumed rerun. The batch mode
 * runs through the openai SDK against a stand-in for the batch API (test/node/eval).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareFixtureBundles } from "../../conditioning/conditioner/bundles.ts";
import { runCli } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { startFakeBatchServer } from "../../node/eval/fake-batch-server.ts";

interface GoldenImage {
  file: string;
  scores: { text: string; cosine: number }[];
}
interface ScoreRow {
  id: string;
  file: string;
  prompt: string;
  cosine: number;
  clip_score: number;
}

const golden = (
  JSON.parse(readFileSync(fixturePath("models/tiny-openai/golden.json"), "utf8")) as {
    images: GoldenImage[];
  }
).images;
const pairs = golden.flatMap((g) =>
  g.scores.map((s, k) => ({
    id: `${g.file.split("/").pop()}|${k}`,
    file: fixturePath("models/tiny-openai", g.file),
    prompt: s.text,
    golden: s.cosine,
  })),
);

let bundle: string;
let cleanup: () => void;
let dir: string;
let manifest: string;
beforeAll(async () => {
  const prepared = await prepareFixtureBundles(["tiny-openai"], { towers: ["text", "vision"] });
  bundle = prepared.dirs["tiny-openai"];
  cleanup = prepared.cleanup;
  dir = mkdtempSync(join(tmpdir(), "clip-edge-eval-cli-"));
  manifest = join(dir, "pairs.jsonl");
  writeFileSync(
    manifest,
    pairs.map((p) => `${JSON.stringify({ id: p.id, file: p.file, prompt: p.prompt })}\n`).join(""),
  );
});
afterAll(() => {
  cleanup?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const readJsonl = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("clip-edge eval (local)", () => {
  it("per-image cosines equal the OpenAI goldens and clip-edge score; aggregate, interval, report", async () => {
    const out = join(dir, "local");
    const run = await runCli([
      "eval",
      "--manifest",
      manifest,
      "--model",
      bundle,
      "--out",
      out,
      "--top",
      "3",
    ]);
    expect(run.code).toBe(0);
    expect(run.err).toContain("eval: 15 scored now, 0 resumed");
    const rows = readJsonl(join(out, "scores.jsonl")) as ScoreRow[];
    expect(rows.map((r) => r.id)).toEqual(pairs.map((p) => p.id));
    rows.forEach((r, i) => {
      expect(Math.abs(r.cosine - pairs[i].golden), r.id).toBeLessThan(1e-4);
      expect(r.clip_score).toBe(100 * Math.max(r.cosine, 0));
    });

    // The same pairs through `clip-edge score` (each image against its three prompts).
    for (const g of golden) {
      const file = fixturePath("models/tiny-openai", g.file);
      const score = await runCli([
        "score",
        "--model",
        bundle,
        "--image",
        file,
        ...g.scores.flatMap((s) => ["--prompt", s.text]),
      ]);
      const line = JSON.parse(score.out.trim().split("\n")[0]) as {
        scores: { prompt: string; cosine: number }[];
      };
      for (const s of line.scores) {
        const row = rows.find((r) => r.file === file && r.prompt === s.prompt) as ScoreRow;
        expect(Math.abs(row.cosine - s.cosine)).toBeLessThan(1e-6);
      }
    }

    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    const expected = Math.max(rows.reduce((s, r) => s + 100 * r.cosine, 0) / rows.length, 0);
    expect(summary.clip_score).toBeCloseTo(expected, 10);
    expect(summary.interval.low).toBeLessThan(expected);
    expect(summary.interval.high).toBeGreaterThan(expected);
    expect(summary.prompts.find((p: { prompt: string }) => p.prompt === "a photo of a cat").n).toBe(
      2,
    );
    expect(JSON.parse(run.out)).toMatchObject({
      images: 15,
      scored: 15,
      failed: 0,
      clip_score: summary.clip_score,
    });
    const csv = readFileSync(join(out, "scores.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(16);
    const promptsCsv = readFileSync(join(out, "prompts.csv"), "utf8").trim().split("\n");
    expect(promptsCsv).toHaveLength(15); // header + 14 distinct prompts
    expect(promptsCsv.find((l) => l.startsWith("a photo of a cat,"))).toMatch(
      /^a photo of a cat,2,/,
    );

    const html = readFileSync(join(out, "report.html"), "utf8");
    for (const r of rows) expect(html).toContain(`<tr data-id="${r.id}">`);
    expect(html).toContain(`data-value="${summary.clip_score}"`);
    // 3 best + 3 worst thumbnails, as JPEG data URIs.
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)).toHaveLength(6);

    // A rerun computes nothing and writes the same results.
    const again = await runCli([
      "eval",
      "--manifest",
      manifest,
      "--model",
      bundle,
      "--out",
      out,
      "--top",
      "3",
    ]);
    expect(again.code).toBe(0);
    expect(again.err).toContain("eval: 0 scored now, 15 resumed");
    expect(readJsonl(join(out, "scores.jsonl"))).toEqual(rows);
  });

  it("an unreadable image is recorded as its error and the rest is scored; --retry-errors tries it again", async () => {
    const folder = mkdtempSync(join(dir, "folder-"));
    writeFileSync(join(folder, "broken.png"), "not a png");
    writeFileSync(
      join(folder, "prompts.jsonl"),
      `${JSON.stringify({ file: "broken.png", prompt: "x" })}\n${JSON.stringify({ file: pairs[0].file, prompt: pairs[0].prompt })}\n`,
    );
    const run = await runCli(["eval", folder, "--model", bundle]);
    expect(run.code).toBe(0);
    const rows = readJsonl(join(folder, "clip-edge-eval", "scores.jsonl"));
    expect(rows[0]).toMatchObject({
      id: "broken.png",
      error: expect.stringContaining("broken.png"),
    });
    expect(Math.abs(rows[1].cosine - pairs[0].golden)).toBeLessThan(1e-4);
    const retry = await runCli(["eval", folder, "--model", bundle, "--retry-errors"]);
    expect(retry.err).toContain("eval: 1 scored now, 1 resumed");
  });

  it("usage errors", async () => {
    expect((await runCli(["eval", "--model", bundle])).code).toBe(2);
    expect((await runCli(["eval", dir])).err).toContain("--model BUNDLE (local) or --url URL");
    expect((await runCli(["eval", dir, "--model", bundle, "--via", "online"])).err).toContain(
      "--via needs --url",
    );
    expect((await runCli(["eval", dir, "--url", "http://x", "--via", "ftp"])).code).toBe(2);
    // A worker without the batch API (the fake's routes under another prefix answer 404).
    const noBatchApi = await startFakeBatchServer(() => 0);
    try {
      const refused = await runCli([
        "eval",
        "--manifest",
        manifest,
        "--url",
        `${noBatchApi.url}/elsewhere`,
        "--out",
        join(dir, "nobatch"),
      ]);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain("no batch API (use --via online)");
    } finally {
      await noBatchApi.close();
    }
    const other = await runCli([
      "eval",
      "--manifest",
      manifest,
      "--url",
      "http://127.0.0.1:9",
      "--via",
      "online",
      "--out",
      join(dir, "local"),
    ]);
    expect(other.code).toBe(1);
    expect(other.err).toContain("holds the results of another run");
  });
});

describe("clip-edge eval --url (batch API, openai SDK)", () => {
  it("scores through files/batches and writes the same outputs", async () => {
    const server = await startFakeBatchServer(
      (image, prompt) => (image.length % 997) / 1000 - prompt.length / 100,
    );
    try {
      const out = join(dir, "batch");
      const run = await runCli([
        "eval",
        "--manifest",
        manifest,
        "--url",
        server.url,
        "--poll-ms",
        "1",
        "--chunk",
        "8",
        "--out",
        out,
      ]);
      expect(run.err).toContain("eval: 15 scored now");
      expect(run.code).toBe(0);
      expect(server.batchesCreated).toHaveLength(2);
      expect(run.err).toMatch(/batch batch_\d+: completed 8\/8/);
      const rows = readJsonl(join(out, "scores.jsonl")) as ScoreRow[];
      rows.forEach((r) => {
        const bytes = readFileSync(r.file).length;
        expect(r.cosine).toBeCloseTo((bytes % 997) / 1000 - r.prompt.length / 100, 12);
      });
    } finally {
      await server.close();
    }
  });
});
