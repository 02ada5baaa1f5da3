/**
 * A generated image set for the eval tests: resized and cropped variants of the fixture
 * photos (made with sharp in a temp folder; nothing is copied into the repo), each paired
 * with one of its photo's golden prompts, listed in `prompts.csv` beside them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { csvLine } from "../../../node/eval/csv.ts";
import { createRandom } from "../../../node/eval/eval-stats.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

interface GoldenImage {
  file: string;
  scores: { text: string }[];
}

export interface GeneratedSet {
  dir: string;
  rows: { file: string; prompt: string }[];
}

/** Writes `count` variants into `dir` (seeded: same count, same files) and prompts.csv. */
export async function writeGeneratedSet(
  dir: string,
  count: number,
  seed = 1,
): Promise<GeneratedSet> {
  const golden = (
    JSON.parse(readFileSync(fixturePath("models/tiny-openai/golden.json"), "utf8")) as {
      images: GoldenImage[];
    }
  ).images;
  const sources = await Promise.all(
    golden.map(async (g) => {
      // A 320-pixel-wide copy first: the variants are cut from it quickly.
      const { data, info } = await sharp(fixturePath("models/tiny-openai", g.file))
        .resize({ width: 320 })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { g, data, info };
    }),
  );
  const random = createRandom(seed);
  const rows: { file: string; prompt: string }[] = [];
  for (let i = 0; i < count; i++) {
    const { g, data, info } = sources[i % sources.length];
    const width = Math.max(64, Math.floor(info.width * (0.5 + 0.5 * random())));
    const height = Math.max(64, Math.floor(info.height * (0.5 + 0.5 * random())));
    const left = Math.floor((info.width - width) * random());
    const top = Math.floor((info.height - height) * random());
    const size = 96 + Math.floor(160 * random());
    const name = `gen-${String(i).padStart(4, "0")}.${i % 3 === 0 ? "jpg" : "png"}`;
    let image = sharp(data, {
      raw: { width: info.width, height: info.height, channels: info.channels },
    })
      .extract({ left, top, width, height })
      .resize({ width: size });
    if (random() < 0.3) image = image.flop();
    await (i % 3 === 0 ? image.jpeg({ quality: 85 }) : image.png()).toFile(join(dir, name));
    rows.push({ file: name, prompt: g.scores[Math.floor(random() * g.scores.length)].text });
  }
  writeFileSync(
    join(dir, "prompts.csv"),
    [csvLine(["file", "prompt"]), ...rows.map((r) => csvLine([r.file, r.prompt]))].join(""),
  );
  return { dir, rows };
}
