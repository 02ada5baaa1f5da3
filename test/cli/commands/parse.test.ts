import { describe, expect, it } from "vitest";
import { readGolden } from "../../conditioning/prompt/golden.ts";
import { runCli } from "../../helpers/cli-io.ts";

const runParse = (args: string[], input: string) => runCli(["parse", ...args], input);

function jsonl(lines: Record<string, unknown>[]): string {
  return lines.map((l) => `${JSON.stringify({ text: l.text })}\n`).join("");
}

/** Parses CLI output lines; weights stay as written ("Infinity" strings compare as strings). */
function outputLines(out: string): unknown[] {
  return out
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line));
}

describe("clip-edge parse reproduces every golden line", () => {
  it("a1111: 199/199 {attention} or {error} lines", async () => {
    const lines = readGolden("a1111_attention.jsonl");
    const { code, out } = await runParse(["--syntax", "a1111"], jsonl(lines));
    expect(code).toBe(0);
    const got = outputLines(out);
    expect(got).toHaveLength(199);
    lines.forEach((line, i) => {
      const want = Array.isArray(line.attention) ? { attention: line.attention } : line.attention;
      expect(got[i], String(line.id)).toEqual(want);
    });
  });

  it("comfy: 199/199 {segments} lines, non-finite weights as strings, -0 kept", async () => {
    const lines = readGolden("comfy_weights.jsonl");
    const { code, out } = await runParse(["--syntax", "comfy"], jsonl(lines));
    expect(code).toBe(0);
    const got = outputLines(out);
    expect(got).toHaveLength(199);
    lines.forEach((line, i) => {
      expect(got[i], String(line.id)).toEqual({ segments: line.segments_unescaped });
    });
    expect(out).toContain('"NaN"');
    expect(out).toContain("-0.0]");
  });

  it("compel: 294/294 {fragments} or {error} lines", async () => {
    const lines = readGolden("compel.jsonl");
    const { code, out } = await runParse(["--syntax", "compel"], jsonl(lines));
    expect(code).toBe(0);
    const got = outputLines(out);
    expect(got).toHaveLength(294);
    lines.forEach((line, i) => {
      const want = "error" in line ? { error: line.error } : { fragments: line.fragments };
      expect(got[i], String(line.id)).toEqual(want);
    });
  });
});

describe("clip-edge parse arguments and per-line errors", () => {
  it("--help exits 0 and documents the output shapes", async () => {
    const { code, out } = await runParse(["--help"], "");
    expect(code).toBe(0);
    expect(out).toContain("--syntax");
    expect(out).toContain('{"attention"');
  });

  it.each([
    [[], "missing required option --syntax"],
    [["--syntax", "sdxl"], "--syntax must be one of"],
    [["--syntax", "a1111", "--bogus"], "bogus"],
    [["--syntax", "none"], "needs --full"],
    [["--syntax", "a1111", "--full", "--steps", "0"], "--steps must be a positive integer"],
  ])("%j -> one-line error, exit 2", async (args, message) => {
    const { code, err, out } = await runParse(args as string[], "");
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain(message);
  });

  it("a rejected text or a line without text gives {error} and the command continues", async () => {
    const input = '{"text":"(word:1.2.3)"}\n{"nope":1}\n{"text":"(a)"}\n';
    const { code, out } = await runParse(["--syntax", "a1111"], input);
    expect(code).toBe(0);
    const got = outputLines(out) as Record<string, unknown>[];
    expect(got[0]).toEqual({ error: "ValueError: could not convert string to float: '1.2.3'" });
    expect(String(got[1].error)).toContain("line 2");
    expect(got[2]).toEqual({ attention: [["a", 1.1]] });
  });

  it("--full writes A1111 AND parts and schedules as conditionings with step ranges", async () => {
    // the part before AND loses its trailing space (A1111 strips it with the weight)
    const input = '{"text":"[cat:dog:0.5] BREAK (x) AND tree :0.5"}\n';
    const { code, out } = await runParse(["--syntax", "a1111", "--full", "--steps", "10"], input);
    expect(code).toBe(0);
    expect(outputLines(out)[0]).toEqual({
      conditionings: [
        {
          kind: "prompt",
          weight: 1,
          steps: { start: 1, end: 5 },
          fragments: [
            { text: "cat", weight: 1 },
            { text: "BREAK", weight: -1, isBreak: true },
            { text: "", weight: 1 },
            { text: "x", weight: 1.1 },
          ],
        },
        {
          kind: "prompt",
          weight: 1,
          steps: { start: 6, end: 10 },
          fragments: [
            { text: "dog", weight: 1 },
            { text: "BREAK", weight: -1, isBreak: true },
            { text: "", weight: 1 },
            { text: "x", weight: 1.1 },
          ],
        },
        {
          kind: "prompt",
          weight: 0.5,
          steps: { start: 1, end: 10 },
          fragments: [{ text: " tree", weight: 1 }],
        },
      ],
    });
  });
});
