import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  checkImports,
  findRootCycle,
  readSources,
  rootGraph,
  specifiersOf,
} from "./import-rules.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("import rules between roots", () => {
  const files = readSources(repoRoot);

  it("hold for the whole tree", () => {
    expect(files.length).toBeGreaterThan(150);
    expect(checkImports(files)).toEqual([]);
  });

  it("leave no import cycle between roots; nothing imports origin/ or cli/", () => {
    const graph = rootGraph(files);
    expect(findRootCycle(graph)).toBeUndefined();
    for (const [from, to] of graph) {
      expect(to.has("origin"), `${from} -> origin`).toBe(false);
      expect(to.has("cli"), `${from} -> cli`).toBe(false);
    }
    expect([...graph.get("conditioning")!]).toEqual([]);
  });

  it.each([
    ["conditioning/prompt/x.ts", 'import { readFile } from "node:fs";', "Node builtins"],
    ["conditioning/prompt/x.ts", 'import * as ort from "onnxruntime-web";', "packages"],
    ["conditioning/prompt/x.ts", 'import { a } from "../../worker/app.ts";', "worker/"],
    ["node/prepare/x.ts", 'import { a } from "../../worker/app.ts";', "worker/"],
    ["node/prepare/x.ts", 'const m = await import("../../origin/main.ts");', "origin/"],
    ["worker/routes/x.ts", 'import { a } from "../../node/hub/pull-model.ts";', "node/"],
    ["worker/routes/x.ts", 'import { Buffer } from "node:buffer";', "Node builtins"],
    ["worker/routes/x.ts", 'import ort from "onnxruntime-node";', "onnxruntime-node"],
    ["conditioning/formats/x.ts", "export const b = Buffer.from([1]);", "Node globals"],
    ["conditioning/formats/x.ts", "export const e = process.env.X;", "Node globals"],
    ["bench/x.ts", 'export { main } from "../cli/main.ts";', "cli/"],
    ["origin/x.ts", 'import "../cli/main.ts";', "cli/"],
  ])("refuses %s: %s", (path, text, reason) => {
    const violations = checkImports([{ path, text }]);
    expect(violations).toHaveLength(1);
    expect(violations[0].reason).toContain(reason);
  });

  it("allows what the rules allow", () => {
    const ok = [
      { path: "worker/app.ts", text: 'import { a } from "../conditioning/errors.ts";' },
      { path: "origin/main.ts", text: 'import { a } from "../node/hub/pull-model.ts";' },
      { path: "cli/main.ts", text: 'import { readFile } from "node:fs/promises";' },
      { path: "bench/x.ts", text: 'import { createApp } from "../worker/app.ts";' },
      { path: "conditioning/a/c.ts", text: 'import { z } from "zod";' },
      { path: "conditioning/a/b.ts", text: "// import x from 'node:fs'\nexport const a = 1;" },
    ];
    expect(checkImports(ok)).toEqual([]);
  });

  it("finds a cycle between roots", () => {
    const graph = rootGraph([
      { path: "node/a.ts", text: 'import "../origin/b.ts";' },
      { path: "origin/b.ts", text: 'import "../node/a.ts";' },
    ]);
    expect(findRootCycle(graph)).toMatch(/node -> origin -> node|origin -> node -> origin/);
  });

  it("reads static, re-export, side-effect and dynamic specifiers", () => {
    const text = [
      'import type { A } from "./a.ts";',
      'import {\n  b,\n} from "./b.ts";',
      'export * from "./c.ts";',
      'import "./d.ts";',
      'const e = await import("./e.ts");',
    ].join("\n");
    expect(specifiersOf(text)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts"]);
  });
});
