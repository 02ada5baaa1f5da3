import { describe, expect, it } from "vitest";
import { parseCompel } from "../../../conditioning/prompt/compel.ts";
import { readGolden, reviveWeight } from "./golden.ts";

const lines = readGolden("compel.jsonl");

/** Deep-revives golden weights ("Infinity"/"NaN" strings) only where weights sit: pair seconds. */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 2 && typeof value[0] === "string")
      return [value[0], reviveWeight(value[1])];
    return value.map(revive);
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

describe("compel parse_conjunction goldens", () => {
  it("has all 294 golden lines (96 compel + 198 A1111-style)", () => {
    expect(lines).toHaveLength(294);
    expect(lines.filter((l) => l.set === "compel")).toHaveLength(96);
  });

  it.each(lines.map((l) => [l.id as string, l] as const))("%s", (_id, line) => {
    const got = parseCompel(line.text as string);
    if ("error" in line) {
      expect(got).toEqual({ error: line.error });
      return;
    }
    expect(got).toEqual({
      fragments: revive(line.fragments),
      lora_weights: revive(line.lora_weights),
    });
  });
});
