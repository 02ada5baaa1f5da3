import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isClipEdgeError } from "../../../conditioning/errors.ts";
import { prepareBundle } from "../../../node/prepare/prepare-bundle.ts";
import { openBundleGraphWeb } from "../../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../../node/runtime/load-bundle.ts";
import { createOrtNodeSession } from "../../../node/runtime/ort-node-session.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { goldenFloat, goldenIds, goldens, ids64, maxAbsDiff } from "../prepare/golden-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-runtime-"));
const ext = join(tmp, "external");
const q4 = join(tmp, "q4");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await prepareBundle({
    from: fixturePath("models", "tiny-openai"),
    out: ext,
    quantization: "fp32",
    towers: ["text"],
    externalDataThreshold: 4096,
  });
  await prepareBundle({
    from: fixturePath("models", "tiny-openai"),
    out: q4,
    quantization: "q4",
    towers: ["text"],
    skipReport: true,
  });
}, 120_000);

function errorOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("loadBundle", () => {
  it("checks sizes and SHA-256 of graphs and external data", () => {
    const bundle = loadBundle(ext);
    const graph = bundle.readGraph("text");
    expect(graph.entry.externalData?.[0].file).toBe("text.onnx.data");
    expect(graph.bytes.byteLength).toBeLessThan(100_000); // weights live in the .data file
    const copy = join(tmp, "tampered");
    cpSync(ext, copy, { recursive: true });
    const data = readFileSync(join(copy, "text.onnx.data"));
    data[data.length - 1] ^= 1;
    writeFileSync(join(copy, "text.onnx.data"), data);
    const err = errorOf(() => loadBundle(copy).readGraph("text"));
    expect(isClipEdgeError(err) && err.code).toBe("integrity");
    expect((err as Error).message).toContain("text.onnx.data");
  });

  it("rejects missing or foreign manifests and missing towers", () => {
    const missing = errorOf(() => loadBundle(join(tmp, "nope")));
    expect(isClipEdgeError(missing) && missing.code).toBe("not_found");
    const foreign = join(tmp, "foreign");
    cpSync(ext, foreign, { recursive: true });
    writeFileSync(
      join(foreign, "manifest.json"),
      JSON.stringify({ formatVersion: 99, graphs: [] }),
    );
    const v = errorOf(() => loadBundle(foreign));
    expect(isClipEdgeError(v) && v.code).toBe("unsupported");
    const noVision = errorOf(() => loadBundle(ext).readGraph("vision"));
    expect((noVision as Error).message).toContain("no vision graph");
  });
});

describe("sessions", () => {
  const g = goldens("tiny-openai");
  const ids = goldenIds(g, "input_ids_pad49407");
  const n = ids.length / 77;

  it("onnxruntime-web runs an external-data bundle and matches the goldens", async () => {
    const s = await openBundleGraphWeb(loadBundle(ext), "text");
    const out = await s.run({ input_ids: s.tensor("int64", ids64(ids), [n, 77]) }, [
      "last_hidden_state",
    ]);
    expect(
      maxAbsDiff(
        out.last_hidden_state.data as Float32Array,
        goldenFloat(g, "last_hidden_state_pad49407"),
      ),
    ).toBeLessThanOrEqual(1e-4);
    await s.release();
  });

  it("onnxruntime-node runs the same bundle (file path + external data) and a q4 bundle", async () => {
    const s = await createOrtNodeSession(join(ext, "text.onnx"), { intraOpNumThreads: 1 });
    const out = await s.run({ input_ids: s.tensor("int64", ids64(ids), [n, 77]) }, ["text_embeds"]);
    expect(
      maxAbsDiff(out.text_embeds.data as Float32Array, goldenFloat(g, "text_embeds")),
    ).toBeLessThanOrEqual(1e-4);
    await s.release();
    const bundle = loadBundle(q4);
    const bytes = bundle.readGraph("text").bytes;
    const node = await createOrtNodeSession(bytes, { graphOptimizationLevel: "all" });
    const web = await openBundleGraphWeb(bundle, "text");
    const feeds = (t: typeof node) => ({
      input_ids: t.tensor("int64", ids64(ids.subarray(0, 77)), [1, 77]),
    });
    const a = await node.run(feeds(node), ["text_embeds"]);
    const b = await web.run(feeds(web), ["text_embeds"]);
    // Same q4 weights; the two backends' kernels differ only in float summation order.
    expect(
      maxAbsDiff(a.text_embeds.data as Float32Array, b.text_embeds.data as Float32Array),
    ).toBeLessThanOrEqual(1e-3);
  });

  it("a session run with a wrong input shape fails with a message naming the inputs", async () => {
    const s = await openBundleGraphWeb(loadBundle(ext), "text");
    const err = await s
      .run({ input_ids: s.tensor("int64", ids64([1, 2, 3]), [3]) })
      .catch((e) => e);
    expect(isClipEdgeError(err)).toBe(true);
    expect((err as Error).message).toContain("input_ids int64[3]");
  });
});

describe("external int8 token-embedding table", () => {
  it("moves the table out of the graph and gives the same outputs as the in-graph int8 table", async () => {
    const inGraph = join(tmp, "int8-in");
    const outside = join(tmp, "int8-ext");
    const from = fixturePath("models", "tiny-openai");
    await prepareBundle({
      from,
      out: inGraph,
      quantization: "int8",
      towers: ["text"],
      skipReport: true,
    });
    const { manifest } = await prepareBundle({
      from,
      out: outside,
      quantization: "int8",
      towers: ["text"],
      tokenEmbedding: "external-int8",
    });
    const entry = manifest.graphs[0];
    expect(entry.inputs).toEqual(["input_ids", "token_embeds"]);
    expect(entry.tokenEmbedding).toBe("external-int8");
    expect(entry.tokenEmbeddingTable?.file).toBe("token_embedding.safetensors");
    // 49408 x 64 int8 + scales no longer in the graph
    const inBytes = loadBundle(inGraph).readGraph("text").bytes.byteLength;
    expect(inBytes - entry.bytes).toBeGreaterThan(49408 * 64);
    expect(manifest.quantizationReport?.int8.tokenCosineMin).toBeGreaterThan(0.99);
    const a = await openBundleGraphWeb(loadBundle(inGraph), "text");
    const b = await openBundleGraphWeb(loadBundle(outside), "text");
    expect(b.inputNames).toEqual(["input_ids"]);
    const g = goldens("tiny-openai");
    const ids = goldenIds(g, "input_ids_pad0");
    const n = ids.length / 77;
    const feeds = (s: typeof a) => ({ input_ids: s.tensor("int64", ids64(ids), [n, 77]) });
    const ra = await a.run(feeds(a), ["last_hidden_state", "text_embeds"]);
    const rb = await b.run(feeds(b), ["last_hidden_state", "text_embeds"]);
    expect(
      maxAbsDiff(ra.text_embeds.data as Float32Array, rb.text_embeds.data as Float32Array),
    ).toBeLessThanOrEqual(1e-5);
    expect(
      maxAbsDiff(
        ra.last_hidden_state.data as Float32Array,
        rb.last_hidden_state.data as Float32Array,
      ),
    ).toBeLessThanOrEqual(1e-5);
    const bad = await b
      .run({ input_ids: b.tensor("int64", ids64([49406, 50000]), [1, 2]) })
      .catch((e) => e);
    expect((bad as Error).message).toContain("50000");
  });
});
