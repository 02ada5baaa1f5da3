import { describe, expect, it } from "vitest";
import { parseA1111Attention } from "../../../conditioning/prompt/a1111-attention.ts";
import { readGolden, revivePairs } from "./golden.ts";

const lines = readGolden("a1111_attention.jsonl");

describe("A1111 parse_prompt_attention goldens", () => {
  it("has all 199 golden lines", () => {
    expect(lines).toHaveLength(199);
  });

  it.each(lines.map((l) => [l.id as string, l] as const))("%s", (_id, line) => {
    const got = parseA1111Attention(line.text as string);
    const want = line.attention as unknown;
    if (want && typeof want === "object" && !Array.isArray(want)) {
      expect(got).toEqual(want);
    } else {
      expect(Array.isArray(got)).toBe(true);
      // Object.is per weight: IEEE-exact, NaN equal to NaN, -0 distinct from 0
      const pairs = got as [string, number][];
      const expected = revivePairs(want);
      expect(pairs.map(([t]) => t)).toEqual(expected.map(([t]) => t));
      pairs.forEach(([, w], i) => {
        expect(Object.is(w, expected[i][1]), `weight ${i}: ${w} vs ${expected[i][1]}`).toBe(true);
      });
    }
  });
});
