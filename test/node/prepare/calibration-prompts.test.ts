import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BUILTIN_CALIBRATION_PROMPTS,
  readCalibrationFile,
} from "../../../node/prepare/calibration-prompts.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-cal-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(tmp, name), text);
  return join(tmp, name);
};

describe("calibration prompts", () => {
  it("ships 64 distinct prompts", () => {
    expect(BUILTIN_CALIBRATION_PROMPTS).toHaveLength(64);
    expect(new Set(BUILTIN_CALIBRATION_PROMPTS).size).toBe(64);
  });

  it("reads JSON Lines {text} and plain one-prompt-per-line files, skipping empty lines", () => {
    expect(
      readCalibrationFile(file("a.jsonl", '{"text": "owl"}\n\n{"text": "a {curly} fox"}\n')),
    ).toEqual(["owl", "a {curly} fox"]);
    expect(readCalibrationFile(file("b.txt", "owl\r\n\r\n{not json} but second line\n"))).toEqual([
      "owl",
      "{not json} but second line",
    ]);
  });

  it("names the flag and the line on bad input", () => {
    expect(() => readCalibrationFile(file("c.jsonl", '{"text": "ok"}\n{"txt": 1}\n'))).toThrow(
      /--calibration .*line 2/,
    );
    expect(() => readCalibrationFile(file("d.jsonl", '{"text": "ok"}\n{oops\n'))).toThrow(
      /--calibration .*line 2 is not valid JSON/,
    );
    expect(() => readCalibrationFile(file("e.txt", "\n\n"))).toThrow(/--calibration .*no prompts/);
  });
});
