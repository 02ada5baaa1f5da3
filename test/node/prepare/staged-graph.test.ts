import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFileNames, graphStages } from "../../../conditioning/bundle/graph-files.ts";
import type { BundleManifest } from "../../../conditioning/bundle/manifest.ts";
import { isClipEdgeError } from "../../../conditioning/errors.ts";
import { prepareBundle } from "../../../node/prepare/prepare-bundle.ts";
import { stageLayers } from "../../../node/prepare/text-graph.ts";
import { openBundleGraphWeb } from "../../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../../node/runtime/load-bundle.ts";
import { runCli } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { goldenFloat, goldenIds, goldens, ids64, maxAbsDiff } from "./golden-helpers.ts";

const from = fixturePath("models", "tiny-openai"); // 3 text layers
const tmp = mkdtempSync(join(tmpdir(), "clip-edge-staged-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dirs = {
  fp32: join(tmp, "fp32"),
  fp32x3: join(tmp, "fp32-stages3"),
  int8: join(tmp, "int8"),
  edge: join(tmp, "int8-edge"),
};
let staged: BundleManifest;
let edge: BundleManifest;

beforeAll(async () => {
  const towers: ["text"] = ["text"];
  await prepareBundle({ from, out: dirs.fp32, quantization: "fp32", towers, hiddenStates: 4 });
  staged = (
    await prepareBundle({
      from,
      out: dirs.fp32x3,
      quantization: "fp32",
      towers,
      hiddenStates: 4,
      stages: 3,
      externalDataThreshold: 1024,
    })
  ).manifest;
  await prepareBundle({ from, out: dirs.int8, quantization: "int8", towers, skipReport: true });
  const cli = await runCli([
    "prepare",
    "--from",
    from,
    "--out",
    dirs.edge,
    "--quant",
    "int8",
    "--edge",
    // Compared below with the unguarded one-graph bundle (the guarded plan on staged bundles:
    // test/cli/commands/prepare.test.ts).
    "--no-guard",
  ]);
  expect(cli.code, cli.err).toBe(0);
  edge = loadBundle(dirs.edge).manifest;
}, 180_000);

describe("prepare --stages", () => {
  it("splits the layers into contiguous stages chained by hidden_in / hidden_out", () => {
    expect(stageLayers(12, 5, 0)).toEqual({ from: 0, to: 2 });
    expect(stageLayers(12, 5, 5)).toEqual({ from: 12, to: 12, head: true }); // the head
    expect(
      [0, 1, 2, 3, 4].map((i) => stageLayers(12, 5, i).to - stageLayers(12, 5, i).from),
    ).toEqual([2, 3, 2, 3, 2]);
    const entry = staged.graphs[0];
    const stages = graphStages(entry);
    // Three layer groups + the head (final LayerNorm, pooling, projection).
    expect(stages.map((s) => s.layers)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 3],
    ]);
    expect(stages.map((s) => s.file)).toEqual([
      "text.stage0.onnx",
      "text.stage1.onnx",
      "text.stage2.onnx",
      "text.stage3.onnx",
    ]);
    expect(entry.file).toBe("text.stage0.onnx");
    expect(stages[0].inputs).toEqual(["input_ids"]);
    expect(stages[1].inputs).toEqual(["input_ids", "hidden_in"]);
    expect(stages[0].outputs).toContain("hidden_out");
    expect(stages[2].outputs).toEqual(["hidden_out", "hidden_states_1"]);
    expect(stages[1].outputs).toEqual(["hidden_out", "hidden_states_2", "hidden_states_ln_2"]);
    expect(stages[3].inputs).toEqual(["input_ids", "hidden_in"]);
    expect(stages[3].outputs).toEqual([
      "last_hidden_state",
      "hidden_states_ln_1",
      "pooled",
      "text_embeds",
    ]);
    // K=4 with 3 layers: hidden_states_4 is the embeddings, produced by stage 0.
    expect(stages[0].outputs).toEqual(
      expect.arrayContaining(["hidden_states_4", "hidden_states_3", "hidden_states_ln_4"]),
    );
    expect(entry.inputs).toEqual(["input_ids"]);
    const unstaged = loadBundle(dirs.fp32).manifest.graphs[0];
    expect([...entry.outputs].sort()).toEqual([...unstaged.outputs].sort());
    const files = bundleFileNames(staged);
    for (const s of stages) {
      expect(files).toContain(s.file);
      expect(files).toContain(s.externalData![0].file);
    }
    for (const f of files) expect(existsSync(join(dirs.fp32x3, f))).toBe(true);
  });

  it("the chained stages equal the one-graph encoder and the reference goldens", async () => {
    const g = goldens("tiny-openai");
    const ids = goldenIds(g, "input_ids_pad49407");
    const n = ids.length / 77;
    const one = await openBundleGraphWeb(loadBundle(dirs.fp32), "text");
    const three = await openBundleGraphWeb(loadBundle(dirs.fp32x3), "text");
    expect([...three.inputNames]).toEqual(["input_ids"]);
    const fetches = [...one.outputNames];
    const feeds = (s: typeof one) => ({ input_ids: s.tensor("int64", ids64(ids), [n, 77]) });
    const a = await one.run(feeds(one), fetches);
    const b = await three.run(feeds(three), fetches);
    for (const name of fetches) {
      expect(
        maxAbsDiff(a[name].data as Float32Array, b[name].data as Float32Array),
        name,
      ).toBeLessThanOrEqual(1e-6);
    }
    const lhs = b.last_hidden_state.data as Float32Array;
    expect(maxAbsDiff(lhs, goldenFloat(g, "last_hidden_state_pad49407"))).toBeLessThanOrEqual(1e-4);
    expect(
      maxAbsDiff(
        b.hidden_states_ln_2.data as Float32Array,
        goldenFloat(g, "penultimate_post_ln_pad49407"),
      ),
    ).toBeLessThanOrEqual(1e-4);
    expect(
      maxAbsDiff(b.text_embeds.data as Float32Array, goldenFloat(g, "text_embeds")),
    ).toBeLessThanOrEqual(1e-4);
    await one.release();
    await three.release();
  });

  it("loadBundle().readGraph refuses a staged graph instead of returning stage 0", () => {
    let error: unknown;
    try {
      loadBundle(dirs.fp32x3).readGraph("text");
    } catch (e) {
      error = e;
    }
    expect(isClipEdgeError(error) && error.code).toBe("unsupported");
    expect((error as Error).message).toContain("staged (4 stages)");
  });

  it("rejects a stage count outside 1..layers", async () => {
    const err = await prepareBundle({
      from,
      out: join(tmp, "bad"),
      quantization: "fp32",
      towers: ["text"],
      stages: 4,
    }).catch((e) => e);
    expect(isClipEdgeError(err) && err.code).toBe("usage");
    expect((err as Error).message).toContain("1..3");
  });
});

describe("prepare --edge", () => {
  it("writes one stage per layer, external data and the token table outside the graph", () => {
    const entry = edge.graphs[0];
    expect(entry.tokenEmbedding).toBe("external-int8");
    expect(entry.tokenEmbeddingTable?.file).toBe("token_embedding.safetensors");
    expect(graphStages(entry).length).toBe(4);
    for (const s of graphStages(entry)) expect(s.externalData?.[0].file).toBe(`${s.file}.data`);
    expect(entry.inputs).toEqual(["input_ids", "token_embeds"]);
    expect(bundleFileNames(edge)).toContain("token_embedding.safetensors");
    // The report compares the chained stages with the one-graph fp32 reference.
    expect(edge.quantizationReport?.int8.tokenCosineMin).toBeGreaterThan(0.99);
  });

  it("answers like the one-graph int8 bundle", async () => {
    const g = goldens("tiny-openai");
    const ids = goldenIds(g, "input_ids_pad0");
    const n = ids.length / 77;
    const a = await openBundleGraphWeb(loadBundle(dirs.int8), "text");
    const b = await openBundleGraphWeb(loadBundle(dirs.edge), "text");
    const feeds = (s: typeof a) => ({ input_ids: s.tensor("int64", ids64(ids), [n, 77]) });
    const ra = await a.run(feeds(a), ["last_hidden_state", "hidden_states_2", "text_embeds"]);
    const rb = await b.run(feeds(b), ["last_hidden_state", "hidden_states_2", "text_embeds"]);
    for (const name of Object.keys(ra)) {
      expect(
        maxAbsDiff(ra[name].data as Float32Array, rb[name].data as Float32Array),
        name,
      ).toBeLessThanOrEqual(1e-5);
    }
  });
});
