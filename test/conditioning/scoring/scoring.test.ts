import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { clipScore, clipScoreAggregate } from "../../../conditioning/scoring/clip-score.ts";
import { cosineSimilarity, l2Normalize } from "../../../conditioning/scoring/normalize.ts";
import { rankPrompts, softmax } from "../../../conditioning/scoring/ranking.ts";
import {
  classEmbedding,
  zeroShotClassify,
  zeroShotPrompts,
} from "../../../conditioning/scoring/zero-shot.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

interface GoldenScore {
  text: string;
  cosine: number;
  clip_score: number;
  logit: number;
  text_embeds: number[];
}
interface GoldenImage {
  image_embeds: number[];
  image_embeds_normalized: number[];
  scores: GoldenScore[];
}

for (const model of ["tiny-openai", "tiny-gelu"]) {
  const golden = JSON.parse(readFileSync(fixturePath("models", model, "golden.json"), "utf8")) as {
    logit_scale: number;
    images: GoldenImage[];
    prompts: { text_embeds: number[]; text_embeds_normalized: number[] }[];
  };

  describe(`scoring against ${model} goldens`, () => {
    it("l2Normalize matches text_embeds_normalized", () => {
      for (const p of golden.prompts.slice(0, 10)) {
        const n = l2Normalize(p.text_embeds);
        n.forEach((v, i) => {
          expect(Math.abs(v - p.text_embeds_normalized[i])).toBeLessThan(1e-6);
        });
      }
    });

    it("per-pair cosine, CLIP score and logit match the reference", () => {
      for (const image of golden.images) {
        for (const s of image.scores) {
          expect(cosineSimilarity(image.image_embeds, s.text_embeds)).toBeCloseTo(s.cosine, 5);
          expect(clipScore(image.image_embeds, s.text_embeds)).toBeCloseTo(s.clip_score, 3);
        }
        const ranked = rankPrompts(
          image.image_embeds,
          image.scores.map((s) => s.text_embeds),
          golden.logit_scale,
        );
        ranked.forEach((r, i) => {
          expect(r.logit).toBeCloseTo(image.scores[i].logit, 3);
        });
        const probs = softmax(image.scores.map((s) => s.logit));
        ranked.forEach((r, i) => {
          expect(r.probability).toBeCloseTo(probs[i], 5);
        });
        expect(ranked.reduce((a, r) => a + r.probability, 0)).toBeCloseTo(1, 12);
      }
    });

    it("torchmetrics aggregate = max(mean(100 cos), 0), clamped after the mean", () => {
      const pairs = golden.images.flatMap((image) =>
        image.scores.map((s) => ({
          imageEmbeds: image.image_embeds,
          textEmbeds: s.text_embeds,
          cosine: s.cosine,
        })),
      );
      const mean = pairs.reduce((a, p) => a + 100 * p.cosine, 0) / pairs.length;
      expect(clipScoreAggregate(pairs)).toBeCloseTo(Math.max(mean, 0), 3);
    });
  });
}

describe("scoring semantics", () => {
  it("per-pair clamps each pair; the aggregate clamps only the mean", () => {
    const img = [1, 0];
    const pos = [1, 0.2];
    const neg = [-1, 0.1];
    expect(clipScore(img, neg)).toBe(0);
    const perPairMean = (clipScore(img, pos) + clipScore(img, neg)) / 2;
    const agg = clipScoreAggregate([
      { imageEmbeds: img, textEmbeds: pos },
      { imageEmbeds: img, textEmbeds: neg },
    ]);
    expect(agg).toBeLessThan(perPairMean);
    expect(clipScoreAggregate([{ imageEmbeds: img, textEmbeds: neg }])).toBe(0);
    expect(() => clipScoreAggregate([])).toThrow(/at least one/);
  });

  it("zero-shot: templates, class vectors (mean of normalised, renormalised), softmax", async () => {
    expect(zeroShotPrompts("dog", ["a photo of a {}.", "a {} drawing"])).toEqual([
      "a photo of a dog.",
      "a dog drawing",
    ]);
    expect(() => zeroShotPrompts("dog", ["no placeholder"])).toThrow(/placeholder/);
    const c = classEmbedding([
      [2, 0],
      [0, 4],
    ]);
    expect(c[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(c[1]).toBeCloseTo(Math.SQRT1_2, 6);
    const vectors: Record<string, number[]> = {
      "a photo of a dog.": [1, 0.1],
      "a photo of a cat.": [0.1, 1],
    };
    const result = await zeroShotClassify(
      [1, 0],
      ["dog", "cat"],
      async (texts) => texts.map((t) => vectors[t]),
      {
        logitScale: Math.log(100),
      },
    );
    expect(result[0].label).toBe("dog");
    expect(result[0].probability).toBeGreaterThan(0.99);
  });
});
