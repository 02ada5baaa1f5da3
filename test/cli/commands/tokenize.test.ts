import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { readCases } from "../../conditioning/tokenizer/helpers.ts";
import { runCli } from "../../helpers/cli-io.ts";
import { fixturePath, repoRoot } from "../../helpers/fixtures.ts";

const run = (argv: string[], stdinText = "") => runCli(["tokenize", ...argv], stdinText);

const cases = readCases();
const model = fixturePath("models", "tiny-openai");

describe("clip-edge tokenize", () => {
  it("writes one {ids} line per JSON Lines input, equal to SimpleTokenizer.encode", async () => {
    const sample = cases.filter((_, i) => i % 5 === 0);
    const input = sample.map((c) => JSON.stringify({ text: c.text })).join("\n");
    const { code, out, err } = await run(["--tokenizer", model], `${input}\n\n`);
    expect(err).toBe("");
    expect(code).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(sample.length);
    for (const [i, line] of lines.entries())
      expect(JSON.parse(line)).toEqual({ ids: sample[i].ids });
  });

  it("--mode hf skips ftfy and HTML unescaping", async () => {
    const { code, out } = await run(
      ["--tokenizer", model, "--mode", "hf"],
      '{"text": "Tom &amp; Jerry"}',
    );
    expect(code).toBe(0);
    const openai = await run(["--tokenizer", model], '{"text": "Tom &amp; Jerry"}');
    expect(JSON.parse(out).ids.length).toBeGreaterThan(JSON.parse(openai.out).ids.length);
  });

  it("prints --help", async () => {
    const { code, out } = await run(["--help"]);
    expect(code).toBe(0);
    expect(out).toContain("--tokenizer DIR");
    expect(out).toContain("--mode");
  });

  it.each([
    [[], /missing required option --tokenizer/],
    [["--tokenizer", model, "--mode", "fast"], /--mode must be openai or hf/],
    [["--tokenizer", model, "--bogus"], /bogus/],
    [["--tokenizer", fixturePath("images")], /vocab\.json \+ merges\.txt or tokenizer\.json/],
  ])("bad arguments %j give one line and exit code 2", async (argv, message) => {
    const { code, err } = await run(argv as string[]);
    expect(code).toBe(2);
    expect(err.trimEnd().split("\n")).toHaveLength(1);
    expect(err).toMatch(message);
  });

  it("bad input lines fail with exit code 1 naming the line", async () => {
    const { code, err } = await run(["--tokenizer", model], '{"text": "ok"}\n{"txt": 1}\n');
    expect(code).toBe(1);
    expect(err).toMatch(/line 2/);
  });

  it("runs as `npx clip-edge tokenize` in a subprocess", async () => {
    const child = promisify(execFile)("npx", ["clip-edge", "tokenize", "--tokenizer", model], {
      cwd: repoRoot,
      timeout: 60_000,
    });
    child.child.stdin?.end('{"text": "a photo of a cat"}\n{"text": "<|endoftext|> inside"}\n');
    const { stdout } = await child;
    const expected = ["a photo of a cat", "<|endoftext|> inside"].map(
      (text) => cases.find((c) => c.text === text)?.ids,
    );
    expect(expected.every(Boolean)).toBe(true);
    expect(
      stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).ids),
    ).toEqual(expected);
  });
});
