import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphStages } from "../../../conditioning/bundle/graph-files.ts";
import { isClipEdgeError } from "../../../conditioning/errors.ts";
import { type PrepareOptions, prepareBundle } from "../../../node/prepare/prepare-bundle.ts";
import { openBundleGraphWeb } from "../../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../../node/runtime/load-bundle.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { goldenIds, goldens, ids64, maxAbsDiff } from "./golden-helpers.ts";

const from = fixturePath("models", "tiny-openai"); // 3 text layers
const tmp = mkdtempSync(join(tmpdir(), "clip-edge-planned-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const base: PrepareOptions = {
  from,
  out: "",
  quantization: "int8",
  towers: ["text"],
  skipReport: true,
  externalDataThreshold: 1024,
  tokenEmbedding: "external-int8",
};
const dirs = {
  one: join(tmp, "one"),
  planned: join(tmp, "planned-2-1"),
  roomy: join(tmp, "budget-roomy"),
  tight: join(tmp, "budget-tight"),
};
const results: Partial<Record<keyof typeof dirs, Awaited<ReturnType<typeof prepareBundle>>>> = {};

beforeAll(async () => {
  results.one = await prepareBundle({ ...base, out: dirs.one });
  results.planned = await prepareBundle({ ...base, out: dirs.planned, stages: [2, 1] });
  // 1000 MB fits the tiny model in one graph; 1 MB not even per layer (the runtime alone is more).
  results.roomy = await prepareBundle({ ...base, out: dirs.roomy, budgetBytes: 1000e6 });
  results.tight = await prepareBundle({ ...base, out: dirs.tight, budgetBytes: 1e6 });
}, 240_000);

async function expectSameAnswers(dir: string) {
  const g = goldens("tiny-openai");
  const ids = goldenIds(g, "input_ids_pad49407");
  const n = ids.length / 77;
  const a = await openBundleGraphWeb(loadBundle(dirs.one), "text");
  const b = await openBundleGraphWeb(loadBundle(dir), "text");
  const fetches = [...a.outputNames];
  const feeds = (s: typeof a) => ({ input_ids: s.tensor("int64", ids64(ids), [n, 77]) });
  const ra = await a.run(feeds(a), fetches);
  const rb = await b.run(feeds(b), fetches);
  for (const name of fetches) {
    expect(
      maxAbsDiff(ra[name].data as Float32Array, rb[name].data as Float32Array),
      name,
    ).toBeLessThanOrEqual(1e-5);
  }
  await a.release();
  await b.release();
}

describe("prepare --stages A,B,..: unequal layer groups", () => {
  it("writes the groups as given, then the head", async () => {
    const stages = graphStages(results.planned!.manifest.graphs[0]);
    expect(stages.map((s) => s.layers)).toEqual([
      [0, 2],
      [2, 3],
      [3, 3],
    ]);
    await expectSameAnswers(dirs.planned);
  });

  it("refuses a list that does not sum to the layers, or has an entry < 1", async () => {
    for (const stages of [
      [1, 1],
      [3, 0],
      [2, 2],
    ]) {
      const err = await prepareBundle({ ...base, out: join(tmp, "bad"), stages }).catch((e) => e);
      expect(isClipEdgeError(err) && err.code, String(stages)).toBe("usage");
    }
    expect(existsSync(join(tmp, "bad"))).toBe(false);
  });
});

describe("prepare budgetBytes (--budget-mb)", () => {
  it("a roomy budget: one graph, measured and recorded in the result", async () => {
    const r = results.roomy!;
    expect(r.stagePlan).toMatchObject({ layers: [3], fits: true, budgetBytes: 1000e6 });
    // The tiny graph may fit in the heap's slack (it grows in steps): >= 0.
    expect(r.stagePlan!.heapPerByte).toBeGreaterThanOrEqual(0);
    expect(r.stagePlan!.measuredPeakBytes).toBeLessThanOrEqual(1000e6);
    const entry = r.manifest.graphs[0];
    expect(graphStages(entry)).toHaveLength(1);
    expect(entry.memory?.runtimeBytes).toBeGreaterThan(0);
    // The per-layer files of the measuring pass are gone.
    expect(existsSync(join(dirs.roomy, "text.stage0.onnx"))).toBe(false);
    expect(existsSync(join(dirs.roomy, "text.onnx"))).toBe(true);
    loadBundle(dirs.roomy); // sizes and hashes match the manifest
    await expectSameAnswers(dirs.roomy);
  });

  it("an impossible budget: per-layer, flagged", async () => {
    const r = results.tight!;
    expect(r.stagePlan).toMatchObject({ layers: [1, 1, 1], fits: false });
    expect(r.stagePlan!.note).toContain("even one layer per stage exceeds");
    expect(graphStages(r.manifest.graphs[0])).toHaveLength(4);
    await expectSameAnswers(dirs.tight);
  });
});
