import { describe, expect, it } from "vitest";
import { comfyEscape, parseComfyWeights } from "../../../conditioning/prompt/comfy-weights.ts";
import { readGolden, revivePairs } from "./golden.ts";

const lines = readGolden("comfy_weights.jsonl");

function expectSamePairs(got: [string, number][], want: [string, number][]) {
  expect(got.map(([t]) => t)).toEqual(want.map(([t]) => t));
  got.forEach(([, w], i) => {
    expect(Object.is(w, want[i][1]), `weight ${i}: ${w} vs ${want[i][1]}`).toBe(true);
  });
}

describe("ComfyUI token_weights goldens", () => {
  it("has all 199 golden lines", () => {
    expect(lines).toHaveLength(199);
  });

  it.each(lines.map((l) => [l.id as string, l] as const))("%s", (_id, line) => {
    const text = line.text as string;
    expect(comfyEscape(text)).toBe(line.escaped);
    expectSamePairs(parseComfyWeights(text), revivePairs(line.segments_unescaped));
  });
});
