import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

const from = fixturePath("models", "tiny-openai");
const tmp = mkdtempSync(join(tmpdir(), "clip-edge-budget-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const out = join(tmp, "never-written");
const prepare = (...args: string[]) => runCli(["prepare", "--from", from, "--out", out, ...args]);

describe("clip-edge prepare --budget-mb: usage", () => {
  it("needs --edge, a number > 0, no --stages and the memory profile", async () => {
    const noEdge = await prepare("--quant", "int8", "--budget-mb", "110");
    expect(noEdge.code).toBe(2);
    expect(noEdge.err).toContain("--budget-mb needs --edge");
    for (const bad of ["0", "-5", "abc", ""]) {
      const r = await prepare("--quant", "int8", "--edge", `--budget-mb=${bad}`);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain("--budget-mb must be a number > 0");
    }
    const both = await prepare("--quant", "int8", "--edge", "--budget-mb", "110", "--stages", "2");
    expect(both.code).toBe(2);
    expect(both.err).toContain("--budget-mb and --stages");
    const noProfile = await prepare(
      "--quant",
      "int8",
      "--edge",
      "--budget-mb",
      "110",
      "--no-memory-profile",
    );
    expect(noProfile.code).toBe(2);
    expect(noProfile.err).toContain("--budget-mb needs the memory profile");
  });

  it("--stages takes a count or layers per stage", async () => {
    for (const bad of ["0", "2,0", "2,,1", "a", "1.5"]) {
      const r = await prepare("--stages", bad);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain("--stages must be");
    }
    // A list that does not sum to the layers is refused by prepare itself (before writing).
    const r = await prepare("--stages", "2,2");
    expect(r.code).toBe(2);
    expect(r.err).toContain("sum to 4, not the 3 layers");
    expect(existsSync(out)).toBe(false);
  });

  it("prints the stage plan it chose", async () => {
    const dir = join(tmp, "roomy");
    const r = await runCli([
      "prepare",
      "--from",
      from,
      "--out",
      dir,
      "--quant",
      "int8",
      "--edge",
      "--no-guard",
      "--no-report",
      "--budget-mb",
      "1000",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("stage plan (--budget-mb 1000.0): one graph, estimated load peak");
    expect(existsSync(join(dir, "text.onnx"))).toBe(true);
  }, 120_000);
});
