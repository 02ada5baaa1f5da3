import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BundleManifest } from "../../../conditioning/bundle/manifest.ts";
import { runCli } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { goldenFloat, goldens, maxAbsDiff } from "../../node/prepare/golden-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-prepare-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = runCli;

describe("clip-edge prepare / encode / verify / encode-image", () => {
  const fp32 = join(tmp, "openai-fp32");
  const int8 = join(tmp, "openai-int8");

  it("prepare writes a complete manifest with graph and source hashes", async () => {
    const r = await cli(["prepare", "--from", fixturePath("models", "tiny-openai"), "--out", fp32]);
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(readFileSync(join(fp32, "manifest.json"), "utf8")) as BundleManifest;
    expect(m.formatVersion).toBe(1);
    expect(m.architecture.text).toMatchObject({
      hiddenSize: 64,
      numLayers: 3,
      numHeads: 4,
      hiddenAct: "quick_gelu",
      layerNormEps: 1e-5,
      exportedHiddenStates: 3,
    });
    expect(m.architecture.projectionDim).toBe(48);
    expect(m.architecture.logitScale).toBeCloseTo(Math.log(100), 5);
    expect(m.tokenizer).toMatchObject({ padId: 49407, maxLength: 77 });
    expect(m.tokenizer.files).toEqual(expect.arrayContaining(["vocab.json", "merges.txt"]));
    expect(m.preprocessor?.shortestEdge).toBe(224);
    const src = readFileSync(fixturePath("models", "tiny-openai", "model.safetensors"));
    expect(m.source.files["model.safetensors"].sha256).toBe(
      createHash("sha256").update(src).digest("hex"),
    );
    for (const g of m.graphs) {
      const bytes = readFileSync(join(fp32, g.file));
      expect(g.bytes).toBe(bytes.byteLength);
      expect(g.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    }
    expect(m.graphs.find((g) => g.kind === "text")?.outputs).toEqual([
      "last_hidden_state",
      "hidden_states_1",
      "hidden_states_2",
      "hidden_states_3",
      "hidden_states_ln_1",
      "hidden_states_ln_2",
      "hidden_states_ln_3",
      "pooled",
      "text_embeds",
    ]);
    expect(existsSync(join(fp32, "preprocessor_config.json"))).toBe(true);
  });

  it("encode reproduces the golden tensors through the tokenizer (both pad styles)", async () => {
    const meta = JSON.parse(
      readFileSync(fixturePath("models", "tiny-openai", "golden.json"), "utf8"),
    );
    const g = goldens("tiny-openai");
    const prompts = meta.prompts.slice(0, 4) as {
      index: number;
      text: string;
      input_ids_pad0: number[];
      input_ids_pad49407: number[];
    }[];
    for (const pad of ["49407", "0"]) {
      const r = await cli(
        ["encode", "--model", fp32, "--pad", pad],
        prompts.map((p) => JSON.stringify({ text: p.text })).join("\n"),
      );
      expect(r.code, r.err).toBe(0);
      const lines = r.out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(prompts.length);
      const style = `pad${pad}`;
      prompts.forEach((p, i) => {
        const rec = lines[i];
        expect(rec.input_ids).toEqual(pad === "0" ? p.input_ids_pad0 : p.input_ids_pad49407);
        const row = (name: string, width: number) =>
          goldenFloat(g, name).subarray(p.index * width, (p.index + 1) * width);
        expect(
          maxAbsDiff(rec.last_hidden_state.flat(), row(`last_hidden_state_${style}`, 77 * 64)),
        ).toBeLessThanOrEqual(1e-4);
        expect(
          maxAbsDiff(rec.penultimate_pre_ln.flat(), row(`penultimate_pre_ln_${style}`, 77 * 64)),
        ).toBeLessThanOrEqual(1e-4);
        expect(
          maxAbsDiff(rec.penultimate_post_ln.flat(), row(`penultimate_post_ln_${style}`, 77 * 64)),
        ).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(rec.pooled, row("pooled", 64))).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(rec.text_embeds, row("text_embeds", 48))).toBeLessThanOrEqual(1e-4);
      });
    }
  });

  it("encode-image gives the golden image_embeds for a real photo", async () => {
    const meta = JSON.parse(
      readFileSync(fixturePath("models", "tiny-openai", "golden.json"), "utf8"),
    );
    const r = await cli([
      "encode-image",
      "--model",
      fp32,
      fixturePath("images", "astronaut.png"),
      fixturePath("images", "camera.png"),
    ]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const byFile = (f: string) =>
      meta.images.find((i: { file: string }) => i.file.endsWith(f)).image_embeds as number[];
    expect(maxAbsDiff(lines[0].image_embeds, byFile("astronaut.png"))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(lines[1].image_embeds, byFile("camera.png"))).toBeLessThanOrEqual(1e-4);
  });

  it("prepare --quant int8 prints and stores the report; verify recomputes the same numbers", async () => {
    const r = await cli([
      "prepare",
      "--from",
      fixturePath("models", "tiny-openai"),
      "--out",
      int8,
      "--quant",
      "int8",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("quantisation report (int8 vs fp32");
    const m = JSON.parse(readFileSync(join(int8, "manifest.json"), "utf8")) as BundleManifest;
    expect(m.graphs.map((g) => [g.kind, g.quantization, g.tokenEmbedding])).toEqual([
      ["text", "int8", "int8"],
      ["vision", "int8", undefined],
    ]);
    const stored = m.quantizationReport?.int8;
    expect(stored?.prompts.length).toBeGreaterThan(4);
    expect(stored?.tokenCosineMin).toBeGreaterThan(0.99);
    expect(stored?.tokenCosineMin).toBeLessThan(1);
    const v = await cli([
      "verify",
      "--model",
      int8,
      "--against",
      fixturePath("models", "tiny-openai"),
      "--json",
    ]);
    expect(v.code, v.err).toBe(0);
    const again = JSON.parse(v.out);
    expect(again.report.tokenCosineMin).toBeCloseTo(stored!.tokenCosineMin, 6);
    expect(again.report.textEmbedsCosineMin).toBeCloseTo(stored!.textEmbedsCosineMin!, 6);
    expect(again.sourceMismatches).toEqual([]);
  });

  it("--towers text and --hidden-states 1 export only what was asked", async () => {
    const out = join(tmp, "gelu-text");
    const r = await cli([
      "prepare",
      "--from",
      fixturePath("models", "tiny-gelu"),
      "--out",
      out,
      "--towers",
      "text",
      "--hidden-states",
      "1",
    ]);
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as BundleManifest;
    expect(m.graphs.map((g) => g.kind)).toEqual(["text"]);
    expect(m.graphs[0].outputs).toEqual([
      "last_hidden_state",
      "hidden_states_1",
      "hidden_states_ln_1",
      "pooled",
      "text_embeds",
    ]);
    expect(m.tokenizer.padId).toBe(0);
    expect(m.preprocessor).toBeUndefined();
  });

  it("rejects bad arguments and pickle checkpoints with clear errors", async () => {
    expect((await cli(["prepare", "--out", tmp])).code).toBe(2);
    const bad = await cli([
      "prepare",
      "--from",
      fixturePath("models", "tiny-openai"),
      "--out",
      tmp,
      "--quant",
      "int4",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--quant");
    const pickle = join(tmp, "pickle");
    mkdirSync(pickle);
    writeFileSync(
      join(pickle, "config.json"),
      readFileSync(fixturePath("models", "tiny-openai", "config.json")),
    );
    writeFileSync(join(pickle, "pytorch_model.bin"), "not really a pickle");
    const r = await cli(["prepare", "--from", pickle, "--out", join(tmp, "never")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pytorch_model\.bin.*[Cc]onvert to safetensors/);
    const missing = await cli([
      "prepare",
      "--from",
      join(tmp, "nope"),
      "--out",
      join(tmp, "never"),
    ]);
    expect(missing.err).toContain("does not exist");
  });
});
