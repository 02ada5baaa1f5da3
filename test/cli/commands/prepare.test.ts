import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { graphFiles } from "../../../conditioning/bundle/graph-files.ts";
import type { BundleManifest } from "../../../conditioning/bundle/manifest.ts";
import { calibrationSet } from "../../../node/prepare/calibration-ids.ts";
import { verifyBundle } from "../../../node/prepare/verify-bundle.ts";
import { openBundleGraphWeb } from "../../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../../node/runtime/load-bundle.ts";
import {
  TINY_OUTLIER_TEXT,
  writeOutlierCheckpoint,
} from "../../../node/synthetic/outlier-checkpoint.ts";
import { runCli } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-guard-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ckpt = join(tmp, "outlier");
writeOutlierCheckpoint(ckpt, { text: TINY_OUTLIER_TEXT, projectionDim: 48 });
for (const f of ["vocab.json", "merges.txt"]) copyFileSync(fixturePath("vocab", f), join(ckpt, f));

const manifestOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as BundleManifest;

describe("clip-edge prepare --quant int8: accuracy guard", () => {
  it("meets its targets on the tiny outlier model, prints the plan, and verify recomputes it", async () => {
    const out = join(tmp, "guarded");
    const r = await runCli(["prepare", "--from", ckpt, "--out", out, "--quant", "int8"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("accuracy guard (64 calibration prompts");
    expect(r.out).toMatch(/layer\s+qkv\s+out_proj\s+fc1\s+fc2/);
    const guard = manifestOf(out).quantizationReport?.int8?.guard;
    expect(guard).toBeDefined();
    expect(guard!.met).toBe(true);
    expect(guard!.achieved.tokenCosineMin).toBeGreaterThanOrEqual(0.999);
    expect(guard!.achieved.embedsCosineMin).toBeGreaterThanOrEqual(0.9995);
    expect(Object.keys(guard!.plan)).toHaveLength(4 * TINY_OUTLIER_TEXT.numLayers);
    expect(Object.values(guard!.plan)).toContain("int8-smooth");
    const fp32 = Object.values(guard!.plan).filter((p) => p === "fp32").length;
    expect(guard!.fp32Linears).toBe(fp32);
    // Plain per-token int8 misses the targets on this model: the guard did work.
    expect(
      fp32 + Object.values(guard!.plan).filter((p) => p === "int8-smooth").length,
    ).toBeGreaterThan(0);

    const v = await verifyBundle(out, ckpt);
    expect(v.guard).toBeDefined();
    expect(v.guard!.calibrationMatches).toBe(true);
    expect(v.guard!.met).toBe(true);
    expect(v.guard!.tokenCosineMin).toBeCloseTo(guard!.achieved.tokenCosineMin, 4);
    expect(v.guard!.embedsCosineMin).toBeCloseTo(guard!.achieved.embedsCosineMin, 4);
    const cli = await runCli(["verify", "--model", out, "--against", ckpt]);
    expect(cli.code, cli.err).toBe(0);
    expect(cli.out).toContain("accuracy guard recomputed");
  });

  it("applies the same plan to staged --edge bundles", async () => {
    const out = join(tmp, "edge");
    const r = await runCli(["prepare", "--from", ckpt, "--out", out, "--quant", "int8", "--edge"]);
    expect(r.code, r.err).toBe(0);
    const m = manifestOf(out);
    expect(m.graphs[0].stages?.length).toBe(TINY_OUTLIER_TEXT.numLayers + 1);
    // The summary counts every file of the staged graph (stages, external data, token table).
    const files = graphFiles(m.graphs[0]);
    expect(files.length).toBeGreaterThan(TINY_OUTLIER_TEXT.numLayers + 1);
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    expect(r.out).toContain(`text: ${files.length} files, ${bytes} bytes`);
    const guard = m.quantizationReport!.int8.guard!;
    expect(guard.plan).toEqual(
      manifestOf(join(tmp, "guarded")).quantizationReport!.int8.guard!.plan,
    );
    const ids = BigInt64Array.from(
      calibrationSet(undefined, 49407, 77, TINY_OUTLIER_TEXT.vocabSize).ids.slice(0, 4).flat(),
      (v) => BigInt(v),
    );
    const a = await openBundleGraphWeb(loadBundle(join(tmp, "guarded")), "text");
    const b = await openBundleGraphWeb(loadBundle(out), "text");
    const fetches = ["last_hidden_state", "text_embeds"];
    const ra = await a.run({ input_ids: a.tensor("int64", ids, [4, 77]) }, fetches);
    const rb = await b.run({ input_ids: b.tensor("int64", ids, [4, 77]) }, fetches);
    for (const name of fetches) {
      const x = ra[name].data as Float32Array;
      const y = rb[name].data as Float32Array;
      let d = 0;
      for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
      expect(d, name).toBeLessThanOrEqual(1e-5);
    }
    const v = await verifyBundle(out, ckpt);
    expect(v.guard!.met).toBe(true);
  });

  it("--calibration adds prompts, copied into the bundle for verify", async () => {
    const out = join(tmp, "calibrated");
    const cal = join(tmp, "cal.jsonl");
    writeFileSync(
      cal,
      `${JSON.stringify({ text: "a paper boat on a puddle" })}\n{"text": "owl"}\n`,
    );
    const r = await runCli([
      "prepare",
      "--from",
      ckpt,
      "--out",
      out,
      "--quant",
      "int8",
      "--no-report",
      "--calibration",
      cal,
    ]);
    expect(r.code, r.err).toBe(0);
    const guard = manifestOf(out).quantizationReport!.int8.guard!;
    expect(guard.calibration).toMatchObject({
      prompts: 66,
      builtin: 64,
      file: "calibration.jsonl",
    });
    expect(readFileSync(join(out, "calibration.jsonl"), "utf8")).toContain("a paper boat");
    const v = await verifyBundle(out, ckpt);
    expect(v.guard!.calibrationMatches).toBe(true);
    expect(v.guard!.met).toBe(true);
    expect(v.guard!.tokenCosineMin).toBeCloseTo(guard.achieved.tokenCosineMin, 4);
  });

  it("--no-guard skips it (plain per-token int8 misses the default targets here)", async () => {
    const out = join(tmp, "unguarded");
    const r = await runCli([
      "prepare",
      "--from",
      ckpt,
      "--out",
      out,
      "--quant",
      "int8",
      "--no-guard",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain("accuracy guard");
    const report = manifestOf(out).quantizationReport!.int8;
    expect(report.guard).toBeUndefined();
    expect(report.tokenCosineMin).toBeLessThan(0.999);
    expect(existsSync(join(out, "calibration.jsonl"))).toBe(false);
  });

  it("keeps Linears in fp32 only within --guard-max-fp32-mb, and says so when that is not enough", async () => {
    const strict = ["--min-token-cosine", "0.999999", "--min-embed-cosine", "0.999999"];
    const capped = join(tmp, "capped");
    const args = ["prepare", "--from", ckpt, "--quant", "int8", "--no-report", ...strict];
    const r = await runCli([...args, "--out", capped, "--guard-max-fp32-mb", "0"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("--guard-max-fp32-mb");
    const guard = manifestOf(capped).quantizationReport!.int8.guard!;
    expect(guard.met).toBe(false);
    expect(guard.fp32Linears).toBe(0);
    expect(guard.fp32Budget).toEqual({ maxBytes: 0, usedBytes: 0, limited: true });
    expect(Object.values(guard.plan)).not.toContain("fp32");

    // Without the cap the same targets buy fp32 Linears (and report no budget).
    const free = join(tmp, "uncapped");
    const u = await runCli([...args, "--out", free]);
    const unguarded = manifestOf(free).quantizationReport!.int8.guard!;
    expect(unguarded.fp32Linears, u.err).toBeGreaterThan(0);
    expect(unguarded.fp32Budget).toBeUndefined();
  });

  it.each([
    [["--guard-max-fp32-mb", "-1"], "--guard-max-fp32-mb"],
    [["--min-token-cosine", "high"], "--min-token-cosine"],
    [["--min-token-cosine", "1.5"], "--min-token-cosine"],
    [["--min-embed-cosine", ""], "--min-embed-cosine"],
    [["--smoothing", "sometimes"], "--smoothing"],
    [["--guard-margin", "1"], "--guard-margin"],
    [["--calibration", "/nonexistent/prompts.txt"], "--calibration"],
  ])("bad value %j exits 2 naming %s", async (args, flag) => {
    const r = await runCli([
      "prepare",
      "--from",
      ckpt,
      "--out",
      join(tmp, "bad"),
      "--quant",
      "int8",
      ...args,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(flag);
  });
});
