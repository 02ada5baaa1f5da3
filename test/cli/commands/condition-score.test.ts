import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../cli/main.ts";
import { prepareFixtureBundles } from "../../conditioning/conditioner/bundles.ts";
import { createCliIo } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

const io = () => createCliIo();

interface GoldenImage {
  file: string;
  scores: { text: string; cosine: number; clip_score: number }[];
}

const goldenImages = (
  JSON.parse(readFileSync(fixturePath("models/tiny-openai/golden.json"), "utf8")) as {
    images: GoldenImage[];
  }
).images;
let dir: string;
let cleanup: () => void;

beforeAll(async () => {
  const prepared = await prepareFixtureBundles(["tiny-openai"], { towers: ["text", "vision"] });
  dir = prepared.dirs["tiny-openai"];
  cleanup = prepared.cleanup;
});
afterAll(() => cleanup?.());

describe("clip-edge score", () => {
  it("per-pair cosine and CLIP score match the goldens; probabilities sum to 1; aggregate is torchmetrics'", async () => {
    // astronaut.png and chelsea.png: identical under OpenAI and HF cropping.
    const picked = goldenImages.filter((g) => /astronaut|chelsea/.test(g.file));
    const prompts = picked[0].scores.map((s) => s.text);
    const files = picked.map((g) => fixturePath("models/tiny-openai", g.file));
    const t = io();
    const args = ["score", "--model", dir, ...files.flatMap((f) => ["--image", f])];
    // Three prompts for two images: no pairing, no aggregate line.
    const code = await main([...args, ...prompts.flatMap((p) => ["--prompt", p])], t.io);
    expect(t.err()).toBe("");
    expect(code).toBe(0);
    const lines = t
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    const first = lines[0] as {
      scores: { prompt: string; cosine: number; clip_score: number; probability: number }[];
    };
    picked[0].scores.forEach((s, i) => {
      expect(first.scores[i].prompt).toBe(s.text);
      expect(Math.abs(first.scores[i].cosine - s.cosine)).toBeLessThan(1e-4);
      expect(Math.abs(first.scores[i].clip_score - s.clip_score)).toBeLessThan(1e-2);
    });
    expect(first.scores.reduce((a, s) => a + s.probability, 0)).toBeCloseTo(1, 9);

    // Paired: image i with prompt i -> aggregate = max(mean(100 cos), 0).
    const pairPrompts = picked.map((g) => g.scores[0].text);
    const p = io();
    expect(await main([...args, ...pairPrompts.flatMap((x) => ["--prompt", x])], p.io)).toBe(0);
    const plines = p
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(plines).toHaveLength(3);
    const expected = Math.max(
      (100 * picked[0].scores[0].cosine + 100 * picked[1].scores[0].cosine) / 2,
      0,
    );
    expect(Math.abs(plines[2].clip_score_aggregate - expected)).toBeLessThan(1e-2);

    // `--image a.png b.png`, as the usage line reads, is the same request.
    const q = io();
    const listed = ["score", "--model", dir, ...pairPrompts.flatMap((x) => ["--prompt", x])];
    expect(await main([...listed, "--image", ...files], q.io)).toBe(0);
    expect(q.out()).toBe(p.out());
  });

  it("zero-shot labels with a template", async () => {
    const t = io();
    const code = await main(
      [
        "score",
        "--model",
        dir,
        "--image",
        fixturePath("images/chelsea.png"),
        "--label",
        "cat",
        "--label",
        "cup of coffee",
        "--template",
        "a photo of a {}",
      ],
      t.io,
    );
    expect(code).toBe(0);
    const line = JSON.parse(t.out().trim());
    expect(line.labels.map((l: { label: string }) => l.label)).toEqual(["cat", "cup of coffee"]);
    // chelsea golden: "a photo of a cat" cos 0.4079 > "a cup of coffee" 0.3347 (different template, same ordering check)
    expect(line.labels[0].cosine).toBeCloseTo(goldenImages[2].scores[0].cosine, 3);
    expect(line.labels[0].probability + line.labels[1].probability).toBeCloseTo(1, 9);
  });

  it("usage errors", async () => {
    const t = io();
    expect(await main(["score", "--model", dir, "--prompt", "x"], t.io)).toBe(2);
    expect(t.err()).toContain("--image");
  });
});
