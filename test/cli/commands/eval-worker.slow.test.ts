/**
 * `clip-edge eval` against the real thing: `npm start -- --model tiny-openai --origin` (the
 * worker in wrangler dev, images encoded by the origin on onnxruntime-node). The reference
 * is the worker's own answer: each image POSTed alone to /v1/score with its prompt. The
 * fixture photos x the goldens' prompts and 500 generated variants (resized, cropped) give
 * the same per-image cosines through `eval --url --via online` and through `eval --model`
 * (locally, no server), and the aggregate equals the worker's `aggregate.clip_score` of a
 * diagonal request.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clipScoreAggregateOfCosines } from "../../../conditioning/scoring/clip-score.ts";
import { prepareFixtureBundles } from "../../conditioning/conditioner/bundles.ts";
import { runCli } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { type RunningWorker, startWorker } from "../../helpers/npm-start.ts";
import { writeGeneratedSet } from "../../node/eval/generated-set.ts";

interface GoldenImage {
  file: string;
  scores: { text: string }[];
}
interface Item {
  id: string;
  file: string;
  prompt: string;
}

const GENERATED = 500;
let worker: RunningWorker | undefined;
let bundle: string;
let cleanup: () => void;
let dir: string;
let manifest: string;
let items: Item[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "clip-edge-eval-worker-"));
  const golden = (
    JSON.parse(readFileSync(fixturePath("models/tiny-openai/golden.json"), "utf8")) as {
      images: GoldenImage[];
    }
  ).images;
  const photos = golden.flatMap((g) =>
    g.scores.map((s, k) => ({
      id: `${g.file.split("/").pop()}|${k}`,
      file: fixturePath("models/tiny-openai", g.file),
      prompt: s.text,
    })),
  );
  const generated = join(dir, "generated");
  mkdirSync(generated);
  const set = await writeGeneratedSet(generated, GENERATED, 7);
  items = [
    ...photos,
    ...set.rows.map((r) => ({ id: r.file, file: join(generated, r.file), prompt: r.prompt })),
  ];
  manifest = join(dir, "items.jsonl");
  writeFileSync(manifest, items.map((i) => `${JSON.stringify(i)}\n`).join(""));
  const prepared = await prepareFixtureBundles(["tiny-openai"], { towers: ["text", "vision"] });
  bundle = prepared.dirs["tiny-openai"];
  cleanup = prepared.cleanup;
  worker = await startWorker({ model: "tiny-openai", origin: true });
}, 300_000);
afterAll(async () => {
  await worker?.stop();
  cleanup?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function score(images: string[], prompts: string[]) {
  const response = await fetch(`${worker?.url}/v1/score`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      images: images.map((f) => ({ b64: readFileSync(f).toString("base64") })),
      prompts,
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    images: { cosines: number[] }[];
    aggregate: { clip_score: number; pairs: string };
  };
}

const cosines = (out: string) =>
  new Map(
    readFileSync(join(out, "scores.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; cosine: number })
      .map((r) => [r.id, r.cosine]),
  );

describe("clip-edge eval equals /v1/score per image", () => {
  it("fixture photos x prompts and 500 generated variants: --url (batch API and --via online) and --model (local)", async () => {
    // The reference: one request per image, four at a time.
    const reference = new Map<string, number>();
    const queue = [...items];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let item = queue.shift(); item; item = queue.shift()) {
          const answer = await score([item.file], [item.prompt]);
          reference.set(item.id, answer.images[0].cosines[0]);
        }
      }),
    );

    const online = join(dir, "online");
    const viaUrl = await runCli([
      "eval",
      "--manifest",
      manifest,
      "--url",
      worker?.url as string,
      "--via",
      "online",
      "--out",
      online,
    ]);
    expect(viaUrl.err).toContain(`eval: ${items.length} scored now`);
    expect(viaUrl.code).toBe(0);
    const local = join(dir, "local");
    const viaModel = await runCli([
      "eval",
      "--manifest",
      manifest,
      "--model",
      bundle,
      "--out",
      local,
    ]);
    expect(viaModel.code).toBe(0);

    // Through the worker's batch API (the default --via batch): the 15 photo pairs.
    const photoManifest = join(dir, "photos.jsonl");
    writeFileSync(
      photoManifest,
      items
        .slice(0, 15)
        .map((i) => `${JSON.stringify(i)}\n`)
        .join(""),
    );
    const batched = join(dir, "batch");
    const viaBatch = await runCli([
      "eval",
      "--manifest",
      photoManifest,
      "--url",
      worker?.url as string,
      "--out",
      batched,
    ]);
    expect(viaBatch.err).toContain("eval: 15 scored now");
    expect(viaBatch.code).toBe(0);
    for (const [id, cosine] of cosines(batched)) {
      expect(Math.abs(cosine - (reference.get(id) as number)), id).toBeLessThan(1e-6);
    }

    const fromUrl = cosines(online);
    const fromLocal = cosines(local);
    let worstUrl = 0;
    let worstLocal = 0;
    for (const item of items) {
      const ref = reference.get(item.id) as number;
      worstUrl = Math.max(worstUrl, Math.abs((fromUrl.get(item.id) as number) - ref));
      worstLocal = Math.max(worstLocal, Math.abs((fromLocal.get(item.id) as number) - ref));
    }
    // Same server, other request grouping; locally, the same fp32 graphs on onnxruntime-web
    // instead of the origin's onnxruntime-node. Both measured at ~1e-7 (float32 rounding).
    expect(worstUrl).toBeLessThan(1e-6);
    expect(worstLocal).toBeLessThan(1e-6);

    // The aggregate: the worker's own, over the 15 photo pairs as one diagonal request.
    const photos = items.slice(0, 15);
    const diagonal = await score(
      photos.map((i) => i.file),
      photos.map((i) => i.prompt),
    );
    expect(diagonal.aggregate.pairs).toBe("diagonal");
    const ours = clipScoreAggregateOfCosines(photos.map((i) => fromUrl.get(i.id) as number));
    expect(Math.abs(ours - diagonal.aggregate.clip_score)).toBeLessThan(1e-3);
    const summary = JSON.parse(readFileSync(join(online, "summary.json"), "utf8"));
    const all = clipScoreAggregateOfCosines(items.map((i) => reference.get(i.id) as number));
    expect(Math.abs(summary.clip_score - all)).toBeLessThan(1e-3);
  });
});
